# Thin wrapper over CMake/Ninja.  'make run' and 'make test' work on a fresh Debian 12 machine as
# root: both install what is needed first (scripts/install-deps.sh).
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test test-unit test-asan test-valgrind cppcheck format-check run clean install

all: build

deps:
	./scripts/install-deps.sh

build:
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	ninja -C $(BUILD)

# Every test: the -Werror build's suite, -Werror Release and clang builds, the suite again under
# ASan+UBSan, the CLI tests under valgrind, cppcheck, clang-format, and a short fuzzing run.
# ('make build' leaves JB_WERROR off, its default: CMAKE_FLAGS=-DJB_WERROR=ON to turn it on.)
test: deps
	./scripts/test-all.sh

run: deps build
	./scripts/run-main.sh

install: build
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-release build-clang build-valgrind build-fuzz
