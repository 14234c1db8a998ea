# Petrel: a thin wrapper over CMake. The README's commands live here.
BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=
DATA       ?= var

# Debian 12 packages the build and the test suite need.
DEPS = build-essential cmake pkg-config clang libclang-rt-14-dev \
       liblmdb-dev lmdb-utils libssl-dev libcmocka-dev libcrypt-dev openssl \
       python3 curl swaks isync fetchmail offlineimap3 mutt procps
# Comparison servers and load tools for `make bench`.
BENCH_DEPS = dovecot-core dovecot-imapd dovecot-pop3d dovecot-lmtpd postfix

.PHONY: all build deps bench-deps test test-unit run bench fuzz sanitize clean format

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Installs only what is missing; runs apt-get update first when it must.
deps:
	@missing=$$(for p in $(DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "deps: all installed"; fi

# Installs the incumbents without leaving their services running: a policy-rc.d
# that forbids starts during the install, then an explicit stop.
bench-deps:
	@missing=$$(for p in $(BENCH_DEPS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  printf '#!/bin/sh\nexit 101\n' | $$SUDO tee /usr/sbin/policy-rc.d >/dev/null; $$SUDO chmod +x /usr/sbin/policy-rc.d; \
	  $$SUDO apt-get update -qq; \
	  echo "postfix postfix/main_mailer_type select No configuration" | $$SUDO debconf-set-selections; \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; rc=$$?; \
	  $$SUDO rm -f /usr/sbin/policy-rc.d; \
	  for s in dovecot postfix; do $$SUDO service $$s stop >/dev/null 2>&1 || true; done; \
	  exit $$rc; \
	else echo "bench-deps: all installed"; fi

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

# The whole suite (unit and integration: petreld, petrelctl and the plugins
# are sanitized too) under ASan+UBSan, in its own build dir.
sanitize:
	$(MAKE) BUILD=build-asan CMAKE_ARGS="-DPETREL_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug $(CMAKE_ARGS)" test

run: deps build
	./tools/dev-run.sh $(BUILD) $(DATA)

bench: build
	./tools/bench/run-all.sh $(BUILD) $(BENCH_ARGS)

fuzz:
	$(MAKE) BUILD=build-fuzz CMAKE_ARGS="-DPETREL_FUZZ=ON -DCMAKE_C_COMPILER=clang" build
	./tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

format:
	find core include plugins tools tests -name '*.[ch]' | xargs clang-format -i

clean:
	rm -rf $(BUILD) build-asan build-fuzz
