"""docs/plugin-abi.md, followed by a third party: install Petrel's headers and
pkg-config file with `cmake --install`, build a plugin outside the tree with
the documented CMake snippet and with plain pkg-config flags, load it with
plugin_dir. Also: every plugin exports exactly one dynamic symbol."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from petrel_testlib import BUILD, SOURCE, LineClient, Petreld  # noqa: E402

CMAKE_SNIPPET = """cmake_minimum_required(VERSION 3.18)
project(myproto C)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PETREL REQUIRED petrel-plugin)
add_library(example MODULE example.c)
set_target_properties(example PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden)
target_include_directories(example PRIVATE ${PETREL_INCLUDE_DIRS})
"""


def exported(so):
    out = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True,
                         check=True).stdout
    return sorted(line.split()[-1] for line in out.splitlines()
                  if line.split() and line.split()[-2] in ("T", "D", "B", "R"))


class OutOfTreeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="petrel-oot-")
        cls.prefix = os.path.join(cls.tmp, "prefix")
        subprocess.run(["cmake", "--install", BUILD, "--prefix", cls.prefix], check=True,
                       capture_output=True)
        cls.env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(cls.prefix, "lib", "pkgconfig"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def pkg(self, *args):
        return subprocess.run(["pkg-config", *args, "petrel-plugin"], env=self.env,
                              capture_output=True, text=True, check=True).stdout.split()

    def serve(self, plugin_dir):
        with Petreld([("p", "example", "none", {"greeting": "out of tree"})],
                     extra_global=f"plugin_dir = {plugin_dir}") as d:
            c = LineClient(d.ports["p"])
            self.assertEqual(c.line(), "+OK out of tree on mail.test")
            self.assertEqual(c.cmd("ECHO built elsewhere"), "+OK built elsewhere")
            c.close()
            self.assertIn(f"path={plugin_dir}/example.so", d.read_log())

    def test_headers_and_pkg_config_are_installed(self):
        inc = os.path.join(self.prefix, "include", "petrel")
        self.assertTrue(os.path.exists(os.path.join(inc, "plugin.h")))
        self.assertTrue(os.path.exists(os.path.join(inc, "errors.h")))
        incs = [os.path.realpath(f[2:]) for f in self.pkg("--cflags") if f.startswith("-I")]
        self.assertEqual(incs, [os.path.realpath(os.path.join(self.prefix, "include"))])
        self.assertEqual([os.path.realpath(p) for p in self.pkg("--variable=plugindir")],
                         [os.path.realpath(os.path.join(self.prefix, "lib", "petrel", "plugins"))])

    def test_build_with_pkg_config_flags(self):
        out = os.path.join(self.tmp, "cc")
        os.makedirs(out, exist_ok=True)
        so = os.path.join(out, "example.so")
        subprocess.run(["cc", *self.pkg("--cflags"), "-O2", "-Wall", "-Werror", *self.pkg("--libs"),
                        "-o", so, os.path.join(SOURCE, "plugins", "example", "example.c")],
                       check=True)
        self.assertEqual(exported(so), ["petrel_plugin_entry"])
        self.serve(out)

    def test_build_with_the_documented_cmake_snippet(self):
        src = os.path.join(self.tmp, "src")
        os.makedirs(src, exist_ok=True)
        shutil.copy(os.path.join(SOURCE, "plugins", "example", "example.c"), src)
        with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
            f.write(CMAKE_SNIPPET)
        b = os.path.join(self.tmp, "cmake-build")
        subprocess.run(["cmake", "-S", src, "-B", b], env=self.env, check=True,
                       capture_output=True)
        subprocess.run(["cmake", "--build", b], env=self.env, check=True, capture_output=True)
        self.assertEqual(exported(os.path.join(b, "example.so")), ["petrel_plugin_entry"])
        self.serve(b)

    def test_every_built_plugin_exports_one_symbol(self):
        plugins = [f for f in os.listdir(os.path.join(BUILD, "plugins")) if f.endswith(".so")]
        self.assertIn("example.so", plugins)
        for p in plugins:
            self.assertEqual(exported(os.path.join(BUILD, "plugins", p)), ["petrel_plugin_entry"],
                             p)


if __name__ == "__main__":
    unittest.main(verbosity=2)
