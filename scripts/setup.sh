#!/usr/bin/env bash
#===- scripts/setup.sh - install every system package dist-opt needs ------===#
#
# Idempotent: packages already installed are skipped, and apt-get runs only
# when something is missing. Runs as root, or through sudo when available.
# Later components add their packages to the PACKAGES list below.
#
#===------------------------------------------------------------------------===#
set -euo pipefail

PACKAGES=(
  # Toolchain and build.
  build-essential cmake ninja-build git
  # LLVM/MLIR 22, with lit and FileCheck (llvm-22-tools).
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  # ONNX import: protobuf and the ONNX library (checker, shape inference);
  # the ONNX backend node tests.
  libprotobuf-dev libonnx-dev libonnx-testdata
  # Runtime: collectives and point-to-point transfers between ranks.
  libopenmpi-dev openmpi-bin
  # Chrome traces (JSON) written by dist-run.
  nlohmann-json3-dev
  # Cluster files (YAML, with line/column marks) of the cost model.
  libyaml-cpp-dev
  # The planner's exact strategy choice: an ILP solved with COIN-OR CBC.
  coinor-libcbc-dev pkg-config
  # Unit tests.
  libgtest-dev
  # Fuzzing (fuzz/, scripts/fuzz.sh): clang with libFuzzer and the
  # sanitizers; libomp for the OpenMP kernels when clang builds them.
  # libclang-rt-22-dev holds clang's sanitizer runtimes (only recommended by
  # libclang-common-22-dev, and recommends are not installed).
  clang-22 libfuzzer-22-dev libclang-rt-22-dev libomp-22-dev
  # CPU kernels of the runtime (runtime/cpu): cblas_sgemm / dgemm, in the
  # OpenMP build so that BLAS and the kernels share one thread pool.
  libopenblas-openmp-dev
  # Test models (models/): defined and exported with Debian's PyTorch, checked
  # with the onnx package; both belong to /usr/bin/python3.
  python3-torch python3-onnx python3-numpy
  # lit runs on the system Python.
  python3
  # The distopt Python package (python/): pybind11 bindings of the C++ API,
  # built for Debian's Python 3 (its headers come with python3-dev).
  pybind11-dev python3-dev
  # Test-only: the HTML plan report (--report-html) is checked in a headless
  # browser (test/Plan/report-html.test).
  chromium
)
# Test-only ONNX Runtime oracle (test/oracle/): npm's onnxruntime-node needs
# Node.js >= 18 and npm. Debian's only when no node/npm is installed: another
# nodejs package (e.g. NodeSource's, which bundles npm) conflicts with them.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

# Installs test/oracle/node_modules (npm ci --ignore-scripts); a no-op when up to date.
setup_oracle() {
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    "$(dirname "${BASH_SOURCE[0]}")/../test/oracle/install.sh"
  fi
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} system packages present"
  setup_oracle
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup: missing packages (${missing[*]}) and not root; install them or rerun as root" >&2
    exit 1
  fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
setup_oracle
