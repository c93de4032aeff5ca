#!/usr/bin/python3
"""Installs the build into a temporary prefix and uses it as a framework would.

    /usr/bin/python3 run_install_test.py --build BUILD --work DIR \\
        [--generator NAME] [--sanitize LIST] [--mpi --cluster FILE]

Without --mpi: `cmake --install BUILD --prefix DIR/prefix`; checks the files
installed (the tools, libDistOpt.so, the two headers, the CMake package and
nothing else), that libDistOpt.so exports only the API, and that nothing
installed looks into BUILD at run time; builds test/Install/consumer from a
clean folder with find_package(DistOpt); runs its C++ and C programs on a
small MLP (ONNX, written here) and compares their outputs with NumPy's and
with the installed dist-run's on the artifact the C++ program saved; checks
that their bad calls (missing model, wrong input shape, null arguments) were
errors with messages; runs one SGD step through the C API and compares the
loss and the trained weights with NumPy's. --sanitize builds the consumer with the sanitizers of
a DISTOPT_SANITIZE build, whose library needs their runtime.

With --mpi (after a run without it, on the same DIR): runs the C program
under `mpirun -np 2` on a 2-device compile for FILE's cluster and checks that
it gives the 1-rank output. Exits 1 on the first failure.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
RTOL, ATOL = 1e-5, 1e-6

# What `cmake --install` puts under the prefix; libDistOpt.so's versioned
# names and the per-configuration targets files are matched by prefix.
EXPECTED_FILES = {
    "bin/dist-calibrate", "bin/dist-opt", "bin/dist-run",
    "include/distopt/DistOpt.h", "include/distopt-c/DistOpt.h",
    "lib/cmake/DistOpt/DistOptConfig.cmake",
    "lib/cmake/DistOpt/DistOptConfigVersion.cmake",
    "lib/cmake/DistOpt/DistOptTargets.cmake",
}
# The C++ API's exported functions and classes, demangled.
CXX_API_PREFIXES = (
    "distopt::getVersion(", "distopt::getElementTypeName(",
    "distopt::getElementSize(", "distopt::compile(", "distopt::planModel(",
    "distopt::Status::", "distopt::TensorData::getNumElements(",
    "distopt::CompiledModel::save(", "distopt::Program::load(",
    "distopt::Program::~Program(", "distopt::Program::getRank(",
    "distopt::Program::getNumRanks(", "distopt::Program::getInputs(",
    "distopt::Program::getOutputs(", "distopt::Program::run(",
    "distopt::Program::getWeights(",
)

# Static locals (and their guard variables) of functions in namespaces mlir
# and llvm, mangled.
SHARED_STATIC_PREFIXES = (
    "_ZZN4mlir", "_ZZNK4mlir", "_ZGVZN4mlir", "_ZGVZNK4mlir",
    "_ZZN4llvm", "_ZZNK4llvm", "_ZGVZN4llvm", "_ZGVZNK4llvm")


def run(cmd, what, **kwargs):
    result = subprocess.run(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)
    if result.returncode != 0:
        print(result.stdout)
        sys.exit(f"install-package: {what} failed (exit {result.returncode}): "
                 + " ".join(cmd))
    return result.stdout


def check(condition, message):
    if not condition:
        sys.exit("install-package: " + message)


def write_model(folder):
    """An MLP x[batch,16] -> 32 (ReLU) -> y[batch,8] with an input of batch
    4, NumPy's output, labels, and the loss and weights of one SGD step."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(7)
    w1 = rng.standard_normal((16, 32)).astype(np.float32) * 0.3
    b1 = rng.standard_normal(32).astype(np.float32) * 0.1
    w2 = rng.standard_normal((32, 8)).astype(np.float32) * 0.3
    b2 = rng.standard_normal(8).astype(np.float32) * 0.1
    x = rng.standard_normal((4, 16)).astype(np.float32)
    labels = rng.standard_normal((4, 8)).astype(np.float32)
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h1"]),
             helper.make_node("Add", ["h1", "b1"], ["h2"]),
             helper.make_node("Relu", ["h2"], ["h3"]),
             helper.make_node("MatMul", ["h3", "w2"], ["h4"]),
             helper.make_node("Add", ["h4", "b2"], ["y"])]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8])],
        [numpy_helper.from_array(a, n)
         for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"))])
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    os.makedirs(folder)
    onnx.save(model, os.path.join(folder, "mlp.onnx"))
    x.tofile(os.path.join(folder, "x.bin"))
    np.save(os.path.join(folder, "x.npy"), x)
    h1 = x @ w1 + b1
    y = np.maximum(h1, 0) @ w2 + b2
    np.save(os.path.join(folder, "y.npy"), y)

    # One training step: mean squared error against `labels`, SGD with
    # learning rate 0.1, gradients by hand.
    labels.tofile(os.path.join(folder, "labels.bin"))
    dy = 2 * (y - labels) / y.size
    dh1 = (dy @ w2.T) * (h1 > 0)
    trained = {"loss": np.array([np.mean((y - labels) ** 2)], np.float32),
               "w1": w1 - 0.1 * (x.T @ dh1), "b1": b1 - 0.1 * dh1.sum(0),
               "w2": w2 - 0.1 * (np.maximum(h1, 0).T @ dy),
               "b2": b2 - 0.1 * dy.sum(0)}
    np.savez(os.path.join(folder, "trained.npz"), **trained)


def compare(path, reference, what):
    got = np.fromfile(path, dtype=np.float32)
    check(got.size == reference.size,
          f"{what}: {got.size} values, expected {reference.size}")
    got = got.reshape(reference.shape)
    check(np.allclose(got, reference, rtol=RTOL, atol=ATOL),
          f"{what} differs from the reference by up to "
          f"{np.abs(got - reference).max()}")
    print(f"{what}: matches ({reference.size} values)")


def check_installed_files(prefix):
    found = set()
    for root, _, files in os.walk(prefix):
        for name in files:
            found.add(os.path.relpath(os.path.join(root, name), prefix))
    versioned = {f for f in found
                 if f.startswith(("lib/libDistOpt.so",
                                  "lib/cmake/DistOpt/DistOptTargets-"))}
    # The Python package (python/, docs/python.md), under the folder that
    # Debian's Python searches for this prefix.
    python = {f for f in found
              if re.fullmatch(r"lib/python3\.\d+/dist-packages/distopt/"
                              r"(__init__\.py|torch\.py|_distopt\..*\.so)", f)}
    check(len(python) == 3, f"the Python package is not installed whole: "
          f"{sorted(python)}")
    versioned |= python
    check("lib/libDistOpt.so" in versioned, "lib/libDistOpt.so not installed")
    missing = EXPECTED_FILES - found
    extra = found - EXPECTED_FILES - versioned
    check(not missing, f"not installed: {sorted(missing)}")
    check(not extra, f"installed but not part of the package: {sorted(extra)}")


def check_exports(library):
    """Every defined dynamic symbol is the C API, the C++ API or a process-wide
    unique static local of an MLIR or LLVM inline function (lib/CAPI/
    DistOpt.map says why), and every function of the C++ API is there."""
    symbols = run(["nm", "-D", "--defined-only", "--format=posix", library],
                  "nm").split("\n")
    symbols = [line.split()[:2] for line in symbols if line.strip()]
    names = [name for name, kind in symbols
             if not (kind == "u" and name.startswith(SHARED_STATIC_PREFIXES))]
    demangled = run(["c++filt"], "c++filt", input="\n".join(names)).split("\n")
    c_api = [n for n in names if n.startswith("distopt")]
    check(c_api, "libDistOpt.so exports no C API")
    absent = [p for p in CXX_API_PREFIXES
              if not any(d.startswith(p) for d in demangled)]
    check(not absent, f"libDistOpt.so does not export {absent}")
    stray = [d for n, d in zip(names, demangled)
             if not n.startswith("distopt") and
             not d.startswith(CXX_API_PREFIXES)]
    check(not stray, f"libDistOpt.so exports more than the API: {stray[:10]}")
    print(f"exports: {len(c_api)} C and {len(names) - len(c_api)} C++ API "
          f"symbols, {len(symbols) - len(names)} static locals of MLIR/LLVM")


def check_no_build_paths(prefix, build):
    build = os.path.realpath(build)
    modules = [os.path.relpath(os.path.join(root, name), prefix)
               for root, _, files in os.walk(os.path.join(prefix, "lib"))
               for name in files if name.startswith("_distopt.")]
    for binary in ("bin/dist-opt", "bin/dist-run", "bin/dist-calibrate",
                   "lib/libDistOpt.so", *modules):
        dynamic = run(["readelf", "-d", os.path.join(prefix, binary)],
                      "readelf")
        check(build not in dynamic, f"{binary}'s run path names the build "
              f"folder: {[l for l in dynamic.splitlines() if build in l]}")


def check_errors(output, what, expected):
    for label in expected:
        lines = [l for l in output.splitlines() if l.startswith(label + ": ")]
        check(lines, f"{what} printed no '{label}' error")
        print(f"{what}: {lines[0]}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--build", required=True)
    p.add_argument("--work", required=True)
    p.add_argument("--generator", default="")
    p.add_argument("--mpi", action="store_true")
    p.add_argument("--cluster", default="")
    p.add_argument("--mpirun", default="mpirun --oversubscribe")
    p.add_argument("--sanitize", default="",
                   help="the build's -fsanitize= list, for the consumer")
    args = p.parse_args()

    prefix = os.path.join(args.work, "prefix")
    models = os.path.join(args.work, "model")
    out = os.path.join(args.work, "out")
    consumer = os.path.join(args.work, "consumer")
    c_consumer = os.path.join(consumer, "c-consumer")
    model = os.path.join(models, "mlp.onnx")
    x_bin = os.path.join(models, "x.bin")

    if args.mpi:
        check(os.path.exists(c_consumer),
              f"{c_consumer} missing: run without --mpi first")
        one_rank = os.path.join(out, "c-1rank.bin")
        two_ranks = os.path.join(out, "c-2ranks.bin")
        run([c_consumer, model, x_bin, one_rank], "c-consumer on 1 rank")
        log = run([*args.mpirun.split(), "-np", "2", c_consumer, model, x_bin,
                   two_ranks, "2", args.cluster],
                  "c-consumer under mpirun -np 2")
        check("2 devices, 2 ranks" in log,
              f"the 2-rank run was not compiled for 2 devices:\n{log}")
        reports = re.search(r"plan report: (\d+) bytes of JSON, (\d+) of text; "
                            r"compiled model's report: (\d+) bytes", log)
        check(reports and all(int(n) > 0 for n in reports.groups()),
              f"a 2-device compile or plan gave an empty report:\n{log}")
        compare(two_ranks, np.fromfile(one_rank, np.float32).reshape(4, 8),
                "c-consumer on 2 ranks against 1 rank")
        compare(two_ranks, np.load(os.path.join(models, "y.npy")),
                "c-consumer on 2 ranks against NumPy")
        check_errors(log, "c-consumer on 2 ranks",
                     ["missing model", "missing artifact",
                      "wrong input shape"])
        return

    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(out)
    run(["cmake", "--install", args.build, "--prefix", prefix], "install")
    check_installed_files(prefix)
    check_exports(os.path.join(prefix, "lib", "libDistOpt.so"))
    check_no_build_paths(prefix, args.build)

    configure = ["cmake", "-S", os.path.join(HERE, "consumer"), "-B", consumer,
                 f"-DCMAKE_PREFIX_PATH={os.path.abspath(prefix)}",
                 "-DCMAKE_BUILD_TYPE=Release"]
    if args.generator:
        configure += ["-G", args.generator]
    if args.sanitize:
        flag = "-fsanitize=" + args.sanitize
        configure += [f"-DCMAKE_C_FLAGS={flag}", f"-DCMAKE_CXX_FLAGS={flag}",
                      f"-DCMAKE_EXE_LINKER_FLAGS={flag}"]
    run(configure, "configuring the consumer project")
    run(["cmake", "--build", consumer], "building the consumer project")

    write_model(models)
    reference = np.load(os.path.join(models, "y.npy"))
    # Saved beside the model, whose folder holds the weights it names.
    artifact = os.path.join(models, "mlp.dist")
    log = run([os.path.join(consumer, "cpp-consumer"), model, x_bin,
               os.path.join(out, "cpp.bin"), artifact], "cpp-consumer")
    compare(os.path.join(out, "cpp.bin"), reference, "cpp-consumer")
    check_errors(log, "cpp-consumer", ["missing model", "wrong input shape"])

    log = run([c_consumer, model, x_bin, os.path.join(out, "c.bin")],
              "c-consumer")
    compare(os.path.join(out, "c.bin"), reference, "c-consumer")
    check_errors(log, "c-consumer",
                 ["null model path", "null program", "value of no input",
                  "missing model", "missing artifact", "wrong input shape",
                  "small output buffer"])

    # A training step: its loss and the trained weights, read back whole.
    trained_dir = os.path.join(out, "trained")
    os.makedirs(trained_dir)
    log = run([os.path.join(consumer, "c-train"), model, x_bin,
               os.path.join(models, "labels.bin"), trained_dir], "c-train")
    trained = np.load(os.path.join(models, "trained.npz"))
    for name in trained.files:
        compare(os.path.join(trained_dir, name + ".bin"), trained[name],
                f"c-train's {name}")

    # The installed runtime on the artifact that the library wrote.
    run([os.path.join(prefix, "bin", "dist-run"), artifact, "--input",
         "x=" + os.path.join(models, "x.npy"), "--output-dir",
         os.path.join(out, "dist-run")], "the installed dist-run")
    dist_run = np.load(os.path.join(out, "dist-run", "y.npy"))
    compare(os.path.join(out, "cpp.bin"), dist_run,
            "cpp-consumer against the installed dist-run")


if __name__ == "__main__":
    main()
