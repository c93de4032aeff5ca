#!/usr/bin/python3
"""Imports every ONNX backend node-test model shipped by Debian's
libonnx-testdata and reports what happened to each.

    /usr/bin/python3 run_node_tests.py DIST_OPT [--data DIR] [--jobs N]
        [--dist-run DIST_RUN [--run-every K]] [-v]

For each test folder (`model.onnx` plus `test_data_set_*/input_*.pb`), the
model is imported with `dist-opt`; dynamic input dims are fixed with --shape
from the first test data set. An input that an op needs at compile time (a
Reshape's shape, a Slice's starts) is given to dist-opt with --value
NAME=input_K.pb, as dist-opt's error asks, and the model is compiled once per
test data set. Each model ends as one of:

  imported     dist-opt wrote the module;
  unsupported  dist-opt refused it with its error naming the unsupported
               operators (the model uses an op the importer does not convert);
  rejected     dist-opt refused a supported op with one clear error (an
               element type or a form of the op it does not handle), listed
               by message so that every such case is visible;
  failed       anything else: a crash, or an error for a model that fails
               for no stated reason. These are bugs.

With --dist-run, every imported model is also compiled for one device and
run by dist-run on each of its test data sets, and its outputs are compared
with the expected ones at the ONNX backend runner's tolerance (rtol 1e-3,
atol 1e-7). An imported model then ends as:

  ran          every data set's outputs matched;
  bad data     a test data file's element type contradicts the model's
               declaration (ONNX 1.12 stores bfloat16 test data as UINT16),
               so the test cannot be run as written; listed by name;
  mismatched   dist-run ran it, but an output differs (a bug);
  failed       dist-opt or dist-run failed on it (a bug).

With --run-every K, every model is compiled but only every K-th (in name
order) is run; the others count as imported. The sanitizer build's ctest
uses K = 3: its compiles check the importer on every model, its runs the
kernels on a third of them, and the stage takes a third less time.

Prints the counts and, with -v, every model's outcome; the last line is
`N passed, M failed` (failed = failed + mismatched) and the exit code is 1
when any model failed.
"""
import argparse
import collections
import concurrent.futures
import glob
import os
import re
import subprocess
import sys

import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

RTOL, ATOL = 1e-3, 1e-7
# dist-opt's error for an input needed at compile time.
VALUE_ASKED = re.compile(r"it is a graph input; give its value with --value (.+?)=FILE")


def input_shapes(folder):
    """--shape options for the model's graph inputs, from test data set 0."""
    model = onnx.load(os.path.join(folder, "model.onnx"), load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in inits]
    dynamic = set()
    for i in model.graph.input:
        if i.name in inits or not i.type.HasField("tensor_type"):
            continue
        dims = i.type.tensor_type.shape.dim
        if any(not d.HasField("dim_value") for d in dims):
            dynamic.add(i.name)
    args = []
    data = sorted(glob.glob(os.path.join(folder, "test_data_set_*")))
    for k, name in enumerate(names):
        if name not in dynamic or not data:
            continue
        path = os.path.join(data[0], f"input_{k}.pb")
        if not os.path.exists(path):
            continue
        t = onnx.TensorProto()
        with open(path, "rb") as f:
            t.ParseFromString(f.read())
        shape = "x".join(str(d) for d in t.dims) if t.dims else "scalar"
        args.append(f"--shape={name}={shape}")
    return args


def value_args(folder, data, valued):
    """--value options for the inputs `valued` (name -> index), from `data`."""
    return [f"--value={n}={os.path.join(data, f'input_{k}.pb')}"
            for n, k in valued.items()]


def compile_model(dist_opt, folder, args, out, data=None, valued=None):
    """Compiles the model for one device; returns the completed process."""
    extra = value_args(folder, data, valued) if valued else []
    return subprocess.run([dist_opt, os.path.join(folder, "model.onnx"), *args, *extra,
                           "--devices=1", "-o", out], capture_output=True, text=True)


def execute(dist_opt, dist_run, folder, args, artifact, tmp, valued):
    """Runs the compiled model on each test data set of the folder (compiled
    again for each with its own values of the inputs in `valued`)."""
    model = onnx.load(os.path.join(folder, "model.onnx"), load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    in_values = [i for i in model.graph.input if i.name not in inits]
    in_names = [i.name for i in in_values]
    out_names = [o.name for o in model.graph.output]
    # Test data whose element type contradicts the model cannot be run.
    for data in sorted(glob.glob(os.path.join(folder, "test_data_set_*"))):
        for kind, values in (("input", in_values), ("output", model.graph.output)):
            for k, v in enumerate(values):
                path = os.path.join(data, f"{kind}_{k}.pb")
                if not os.path.exists(path):
                    continue
                t = onnx.TensorProto()
                with open(path, "rb") as f:
                    t.ParseFromString(f.read())
                declared = v.type.tensor_type.elem_type
                if t.data_type != declared:
                    return "bad data", (
                        f"{os.path.basename(data)}/{kind}_{k}.pb holds "
                        f"{onnx.TensorProto.DataType.Name(t.data_type)}, the model "
                        f"declares {onnx.TensorProto.DataType.Name(declared)}")
    for data in sorted(glob.glob(os.path.join(folder, "test_data_set_*"))):
        if valued:
            artifact = os.path.join(tmp, os.path.basename(data) + ".dist")
            proc = compile_model(dist_opt, folder, args, artifact, data, valued)
            if proc.returncode != 0:
                return "failed", "compile: " + proc.stderr.strip()[-300:]
        inputs = [f"--input={n}={os.path.join(data, f'input_{k}.pb')}"
                  for k, n in enumerate(in_names) if n not in valued]
        out = os.path.join(tmp, os.path.basename(data))
        proc = subprocess.run([dist_run, artifact, *inputs, "--output-dir", out,
                               "--threads=1"], capture_output=True, text=True)
        if proc.returncode != 0:
            return "failed", "run: " + proc.stderr.strip()[-300:]
        for k, n in enumerate(out_names):
            want = onnx.TensorProto()
            with open(os.path.join(data, f"output_{k}.pb"), "rb") as f:
                want.ParseFromString(f.read())
            want = numpy_helper.to_array(want)
            got = np.load(os.path.join(out, n + ".npy"))
            if got.shape != want.shape:
                return "mismatched", f"{n}: shape {got.shape}, expected {want.shape}"
            if want.dtype == np.bool_ or np.issubdtype(want.dtype, np.integer):
                ok = np.array_equal(got, want)
            else:
                ok = np.allclose(got, want, rtol=RTOL, atol=ATOL, equal_nan=True)
            if not ok:
                diff = np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))
                return "mismatched", f"{n}: max abs difference {diff:.3g}"
    return "ran", ""


def run_one(dist_opt, dist_run, folder, run=True):
    name = os.path.basename(folder)
    try:
        args = input_shapes(folder)
    except Exception as e:  # noqa: BLE001 - report any unreadable test
        return name, "failed", f"cannot read the test's inputs: {e}"
    # One compile per model (a process start is much of a test's time under
    # the sanitizers): its error classifies a refusal; its artifact is run.
    # An input needed at compile time is given as a value, from data set 0
    # here, and the compile tried again.
    data = sorted(glob.glob(os.path.join(folder, "test_data_set_*")))
    model = onnx.load(os.path.join(folder, "model.onnx"), load_external_data=False)
    inits = {t.name for t in model.graph.initializer}
    index = {i.name: k for k, i in
             enumerate(i for i in model.graph.input if i.name not in inits)}
    valued = {}
    with tempfile.TemporaryDirectory() as tmp:
        artifact = os.path.join(tmp, "model.dist")
        while True:
            proc = compile_model(dist_opt, folder, args, artifact,
                                 data[0] if data else None, valued)
            asked = VALUE_ASKED.search(proc.stderr)
            if (proc.returncode == 0 or not asked or not data
                    or asked.group(1) in valued or asked.group(1) not in index):
                break
            valued[asked.group(1)] = index[asked.group(1)]
        if proc.returncode == 0:
            if dist_run and run:
                kind, message = execute(dist_opt, dist_run, folder, args, artifact,
                                        tmp, valued)
                return name, kind, message
            return name, "imported", ""
    err = proc.stderr.strip()
    errors = [line for line in err.splitlines() if ": error: " in line]
    if proc.returncode != 1 or len(errors) != 1 or "Stack dump" in err:
        return name, "failed", err.splitlines()[0] if err else f"exit {proc.returncode}"
    message = errors[0].split(": error: ", 1)[1]
    if message.startswith("unsupported ONNX operator"):
        return name, "unsupported", message
    return name, "rejected", message


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist_opt")
    parser.add_argument("--data", default="/usr/share/libonnx-testdata/data/node")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--dist-run", default="",
                        help="also run imported models with this dist-run")
    parser.add_argument("--run-every", type=int, default=1,
                        help="run only every K-th imported model (all compile)")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    folders = sorted(d for d in glob.glob(os.path.join(args.data, "*"))
                     if os.path.exists(os.path.join(d, "model.onnx")))
    if not folders:
        sys.exit(f"error: no node tests under {args.data}; install libonnx-testdata")
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(
            lambda ix: run_one(args.dist_opt, args.dist_run, ix[1],
                               ix[0] % max(args.run_every, 1) == 0),
            enumerate(folders)))

    counts = collections.Counter(kind for _, kind, _ in results)
    by_message = collections.defaultdict(list)
    for name, kind, message in results:
        if args.verbose:
            print(f"{kind:11} {name}" + (f": {message}" if message else ""))
        if kind == "rejected":
            # Group by the message without names of nodes and tensors.
            key = message.split("): ", 1)[-1]
            by_message[key].append(name)
    if args.dist_run:
        print(f"node tests: {len(results)} models: {counts['ran']} imported and ran "
              f"matching the expected outputs, {counts['bad data']} with "
              f"inconsistent test data, {counts['mismatched']} mismatched, "
              + (f"{counts['imported']} imported and not run (--run-every "
                 f"{args.run_every}), " if counts['imported'] else "") +
              f"{counts['unsupported']} unsupported (clear error), "
              f"{counts['rejected']} rejected (clear error), {counts['failed']} failed")
    else:
        print(f"node tests: {len(results)} models: {counts['imported']} imported, "
              f"{counts['unsupported']} unsupported (clear error), "
              f"{counts['rejected']} rejected (clear error), {counts['failed']} failed")
    for message, names in sorted(by_message.items(), key=lambda kv: -len(kv[1])):
        print(f"  rejected x{len(names)}: {message}  [{', '.join(names[:3])}"
              f"{', ...' if len(names) > 3 else ''}]")
    for name, kind, message in results:
        if kind == "bad data":
            print(f"  bad test data: {name}: {message}")
    for name, kind, message in results:
        if kind in ("failed", "mismatched"):
            print(f"{kind.upper()} {name}: {message}")
    bad = counts["failed"] + counts["mismatched"]
    print(f"{len(results) - bad} passed, {bad} failed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
