#!/usr/bin/env bash
#===- scripts/fuzz.sh - build and run the libFuzzer targets of fuzz/ ------===#
#
# Usage: scripts/fuzz.sh [seconds-per-target] [target...]
#   seconds-per-target  how long each target runs (default 40)
#   target              onnx_import, cluster_file, tensor_file, artifact
#                       (default: all four)
#
# Builds the targets with clang-22 and -fsanitize=fuzzer,address,undefined
# into FUZZ_BUILD_DIR (default build-fuzz/), then runs each one from its seed
# corpus fuzz/corpus/<target>/ (read, never written; its regressions/
# subfolder is replayed too). New inputs go to FUZZ_BUILD_DIR/corpus/<target>/
# and are kept between runs. A crash, a leak, a timeout (FUZZ_TIMEOUT seconds
# for one input, default 60) or an input over the memory limit fails the run:
# the reproducer is left in FUZZ_BUILD_DIR/crashes/<target>/, and its path,
# size and base64 are printed with libFuzzer's report. The remaining targets
# still run; the exit status is 1 if any target failed.
#
# Reproduce one input: FUZZ_BUILD_DIR/bin/fuzz-<target> FILE
#
#===------------------------------------------------------------------------===#
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_DIR="${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}"
ALL_TARGETS=(onnx_import cluster_file tensor_file artifact)

seconds="${1:-40}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "fuzz.sh: seconds-per-target must be a positive integer, not '$seconds'" >&2
  exit 1
fi
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")
for t in "${targets[@]}"; do
  # shellcheck disable=SC2076 # a literal match of " name " in the list
  if [[ ! " ${ALL_TARGETS[*]} " =~ " $t " ]]; then
    echo "fuzz.sh: unknown target '$t' (known: ${ALL_TARGETS[*]})" >&2
    exit 1
  fi
done

BUILD_DIR="$BUILD_DIR" BUILD_TARGETS="${targets[*]/#/fuzz-}" \
  "$ROOT/scripts/build.sh" \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 -DDISTOPT_FUZZ=ON

# Leaks are failures too, except in the system libraries' one-time
# allocations (fuzz/lsan.supp says which and why).
export LSAN_OPTIONS="suppressions=$ROOT/fuzz/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

failed=()
for t in "${targets[@]}"; do
  work="$BUILD_DIR/corpus/$t"
  crashes="$BUILD_DIR/crashes/$t"
  mkdir -p "$work" "$crashes"
  echo "=== fuzz-$t: ${seconds}s from fuzz/corpus/$t ==="
  status=0
  "$BUILD_DIR/bin/fuzz-$t" -max_total_time="$seconds" \
    -timeout="${FUZZ_TIMEOUT:-60}" -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
    -print_final_stats=1 -artifact_prefix="$crashes/" \
    "$work" "$ROOT/fuzz/corpus/$t" || status=$?
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    echo "=== fuzz-$t FAILED (exit $status); reproducers:"
    for f in "$crashes"/*; do
      [ -f "$f" ] || continue
      size=$(stat -c %s "$f")
      echo "--- $f ($size bytes); replay: $BUILD_DIR/bin/fuzz-$t $f"
      if [ "$size" -le 65536 ]; then
        echo "base64 (decode with: base64 -d > FILE):"
        base64 -w 76 "$f"
      fi
    done
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: ${targets[*]}: no crash in ${seconds}s each"
