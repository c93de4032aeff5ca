#!/usr/bin/env bash
#===- scripts/test.sh - build dist-opt and run every test -----------------===#
#
# Three stages, in this order (docs/building.md):
#   1. build/ (BUILD_DIR): the normal build; the lit suite (test/) and the
#      GoogleTest unit tests (unittests/) through ctest.
#   2. build-fuzz/: each libFuzzer target of fuzz/ for FUZZ_SECONDS seconds
#      (default 40) from its seed corpus (scripts/fuzz.sh); FUZZ_TARGETS
#      names some targets only.
#   3. build-asan/ (ASAN_BUILD_DIR): the whole ctest suite again, built with
#      -fsanitize=address,undefined.
# The cheap, most telling stage runs first; the sanitizer stages catch what
# the plain tests cannot see. Every stage runs even when an earlier one
# failed, so that one CI run reports all of them; the exit status is non-zero
# when any failed. DISTOPT_TEST_FUZZ=0 or DISTOPT_TEST_ASAN=0 skips a stage.
#
#===------------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
ASAN_BUILD_DIR="${ASAN_BUILD_DIR:-$ROOT/build-asan}"

failed=()
summary=()

# Runs stage $1 (a name) as the command that follows; records its time.
stage() {
  local name="$1" start status=0
  shift
  echo "=== test.sh: $name ==="
  start=$(date +%s)
  "$@" || status=$?
  summary+=("$name: $([ "$status" -eq 0 ] && echo passed || echo "FAILED ($status)") in $(($(date +%s) - start))s")
  [ "$status" -eq 0 ] || failed+=("$name")
}

normal_suite() {
  "$ROOT/scripts/build.sh"
  # Two tests at a time; the MPI runs of many ranks run alone (RUN_SERIAL,
  # test/CMakeLists.txt).
  (cd "$BUILD_DIR" && ctest --parallel 2 --output-on-failure)
}

asan_suite() {
  BUILD_DIR="$ASAN_BUILD_DIR" "$ROOT/scripts/build.sh" \
    -DDISTOPT_SANITIZE=address,undefined
  # The sanitizer settings (and why) are in docs/building.md: no leak
  # checking (OpenMPI's unloaded plugins leak at MPI_Finalize, with stacks
  # that no suppression can name); no manual poisoning (LLVM's inline
  # allocator, instrumented here and not in libMLIR.so).
  local symbolizer=/usr/lib/llvm-22/bin/llvm-symbolizer
  (cd "$ASAN_BUILD_DIR" &&
    ASAN_OPTIONS="detect_leaks=0:allow_user_poisoning=0:${ASAN_OPTIONS:-}" \
    UBSAN_OPTIONS="print_stacktrace=1:${UBSAN_OPTIONS:-}" \
    ASAN_SYMBOLIZER_PATH="$symbolizer" \
    ctest --parallel 2 --output-on-failure)
}

stage "normal build and tests" normal_suite
if [ "${DISTOPT_TEST_FUZZ:-1}" != 0 ]; then
  # FUZZ_TARGETS (space-separated) limits the slice to some targets.
  # shellcheck disable=SC2086
  stage "fuzz slice" "$ROOT/scripts/fuzz.sh" "${FUZZ_SECONDS:-40}" ${FUZZ_TARGETS:-}
fi
if [ "${DISTOPT_TEST_ASAN:-1}" != 0 ]; then
  stage "ASan+UBSan suite" asan_suite
fi

printf 'test.sh: %s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
  echo "test.sh: failed: ${failed[*]}" >&2
  exit 1
fi
