#!/usr/bin/python3
"""Imports every ONNX backend node-test model shipped by Debian's
libonnx-testdata and reports what happened to each.

    /usr/bin/python3 run_node_tests.py DIST_OPT [--data DIR] [--jobs N] [-v]

For each test folder (`model.onnx` plus `test_data_set_*/input_*.pb`), the
model is imported with `dist-opt`; dynamic input dims are fixed with --shape
from the first test data set. Each model ends as one of:

  imported     dist-opt wrote the module;
  unsupported  dist-opt refused it with its error naming the unsupported
               operators (the model uses an op the importer does not convert);
  rejected     dist-opt refused a supported op with one clear error (an
               element type or a form of the op it does not handle), listed
               by message so that every such case is visible;
  failed       anything else: a crash, or an error for a model that fails
               for no stated reason. These are bugs.

Prints the counts and, with -v, every model's outcome; the last line is
`N passed, M failed` (passed = imported + unsupported + rejected) and the
exit code is 1 when any model failed.
"""
import argparse
import collections
import concurrent.futures
import glob
import os
import subprocess
import sys

import onnx


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


def run_one(dist_opt, folder):
    name = os.path.basename(folder)
    try:
        args = input_shapes(folder)
    except Exception as e:  # noqa: BLE001 - report any unreadable test
        return name, "failed", f"cannot read the test's inputs: {e}"
    proc = subprocess.run([dist_opt, os.path.join(folder, "model.onnx"), *args,
                           "-o", os.devnull], capture_output=True, text=True)
    err = proc.stderr.strip()
    errors = [line for line in err.splitlines() if ": error: " in line]
    if proc.returncode == 0:
        return name, "imported", ""
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
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    folders = sorted(d for d in glob.glob(os.path.join(args.data, "*"))
                     if os.path.exists(os.path.join(d, "model.onnx")))
    if not folders:
        sys.exit(f"error: no node tests under {args.data}; install libonnx-testdata")
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda f: run_one(args.dist_opt, f), folders))

    counts = collections.Counter(kind for _, kind, _ in results)
    by_message = collections.defaultdict(list)
    for name, kind, message in results:
        if args.verbose:
            print(f"{kind:11} {name}" + (f": {message}" if message else ""))
        if kind == "rejected":
            # Group by the message without names of nodes and tensors.
            key = message.split("): ", 1)[-1]
            by_message[key].append(name)
    print(f"node tests: {len(results)} models: {counts['imported']} imported, "
          f"{counts['unsupported']} unsupported (clear error), "
          f"{counts['rejected']} rejected (clear error), {counts['failed']} failed")
    for message, names in sorted(by_message.items(), key=lambda kv: -len(kv[1])):
        print(f"  rejected x{len(names)}: {message}  [{', '.join(names[:3])}"
              f"{', ...' if len(names) > 3 else ''}]")
    for name, kind, message in results:
        if kind == "failed":
            print(f"FAILED {name}: {message}")
    passed = len(results) - counts["failed"]
    print(f"{passed} passed, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
