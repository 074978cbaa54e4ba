# SPDX-License-Identifier: MIT
# A thin wrapper around Meson: `make`, `make demo`, `make test`.
#   build/       the normal build (build/procvisor, build/libprocvisor-preload.so)
#   build-test/  AddressSanitizer + UBSan, -Werror: what `make test` runs
#   build-fuzz/  clang + libFuzzer targets

MESON ?= meson
NINJA ?= ninja
FUZZ_SECONDS ?= 20

.PHONY: all deps demo test unit integration fuzz fuzz-long bench format clean

all: deps build/build.ninja
	$(NINJA) -C build

deps:
	@scripts/deps.sh

build/build.ninja:
	$(MESON) setup build -Dwerror=true

build-test/build.ninja:
	$(MESON) setup build-test -Dwerror=true -Db_sanitize=address,undefined \
		-Dc_args=-fno-sanitize-recover=undefined -Db_lundef=false

build-fuzz/build.ninja:
	CC=clang $(MESON) setup build-fuzz -Dfuzz=true -Dtests=false -Dwerror=true \
		-Db_sanitize=address,undefined -Db_lundef=false \
		-Dc_args=-fsanitize=fuzzer-no-link

demo: all
	@scripts/demo.sh

test: deps build-test/build.ninja build-fuzz/build.ninja
	$(NINJA) -C build-test
	$(NINJA) -C build-fuzz
	-$(MESON) test -C build-test --print-errorlogs --num-processes 1
	-FUZZ_SECONDS=$(FUZZ_SECONDS) $(MESON) test -C build-fuzz --suite fuzz \
		--print-errorlogs
	@scripts/test-summary.py build-test build-fuzz

unit: deps build-test/build.ninja
	$(NINJA) -C build-test && $(MESON) test -C build-test --suite unit

integration: deps build-test/build.ninja
	$(NINJA) -C build-test && $(MESON) test -C build-test --suite integration \
		--print-errorlogs --num-processes 1

# the long run the issues ask for: make fuzz-long FUZZ_SECONDS=60
fuzz-long: deps build-fuzz/build.ninja
	$(NINJA) -C build-fuzz
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(MESON) test -C build-fuzz --suite fuzz \
		--print-errorlogs --timeout-multiplier 0

bench: all
	@scripts/bench.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-test build-fuzz
