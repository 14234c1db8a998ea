"""The public ABI only grows: every struct of each frozen header (ABI 1.0 in
tests/abi/include, 1.1 in tests/abi/include-1.1) is a prefix of the same struct
in the current header (same members, same order, same declarations), and every
enum constant keeps its value."""
import os
import re
import unittest

SRC = os.environ.get("PETREL_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
FROZEN = os.path.join(SRC, "tests", "abi", "include", "petrel")
FROZEN_ALL = {"1.0": FROZEN, "1.1": os.path.join(SRC, "tests", "abi", "include-1.1", "petrel")}
CURRENT = os.path.join(SRC, "include", "petrel")


def read(directory, name):
    with open(os.path.join(directory, name)) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def structs(text):
    """struct name -> list of member declarations, whitespace-normalized."""
    out = {}
    for m in re.finditer(r"struct (petrel_\w+) \{(.*?)\n\};", text, re.S):
        body = m.group(2)
        # nested anonymous structs (petrel_view's segments) stay one member
        members, depth, cur = [], 0, ""
        for ch in body:
            cur += ch
            depth += ch == "{"
            depth -= ch == "}"
            if ch == ";" and depth == 0:
                members.append(" ".join(cur.split()))
                cur = ""
        out[m.group(1)] = members
    return out


def constants(text):
    return dict(re.findall(r"\b(PETREL_[A-Z0-9_]+)\s*=\s*(-?\w+)", text))


class AbiStableTest(unittest.TestCase):
    def test_structs_only_grow_at_the_end(self):
        new = structs(read(CURRENT, "plugin.h"))
        for version, frozen in FROZEN_ALL.items():
            old = structs(read(frozen, "plugin.h"))
            self.assertIn("petrel_host", old)
            self.assertGreater(len(old["petrel_host"]), 50)
            for name, members in old.items():
                self.assertIn(name, new, f"struct {name} disappeared")
                self.assertEqual(new[name][:len(members)], members,
                                 f"struct {name}: a {version} member was changed, moved or removed")

    def test_1_1_appended_to_1_0(self):
        old = structs(read(FROZEN, "plugin.h"))["petrel_host"]
        v11 = structs(read(FROZEN_ALL["1.1"], "plugin.h"))["petrel_host"]
        added = " ".join(v11[len(old):])
        for fn in ("w_atomic", "w_dsn", "peer_name", "msg_uids"):
            self.assertIn(f"(*{fn})", added)

    def test_constants_keep_their_values(self):
        for frozen in FROZEN_ALL.values():
            for header in ("plugin.h", "errors.h"):
                old = constants(read(frozen, header))
                new = constants(read(CURRENT, header))
                self.assertTrue(old)
                for k, v in old.items():
                    self.assertEqual(new.get(k), v, f"{header}: {k} changed")

    def test_major_version_is_1(self):
        text = read(CURRENT, "plugin.h")
        self.assertRegex(text, r"#define PETREL_ABI_MAJOR 1\b")


if __name__ == "__main__":
    unittest.main(verbosity=2)
