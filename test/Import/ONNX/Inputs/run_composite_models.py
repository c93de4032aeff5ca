#!/usr/bin/python3
"""Runs a model of make_composite_models.py with dist-run and with ONNX
Runtime (test/oracle/run_ort.js) and compares every output: same shape and
element type, values within rtol 1e-5, atol 1e-6 times the output's largest
magnitude (at least 1) (NaN where ORT has NaN).
With --ranks N the model is also planned for N devices on --cluster and run
under MPI, and every output must equal the 1-rank one (rtol 1e-5).

    /usr/bin/python3 run_composite_models.py DIR NAME DIST_OPT DIST_RUN
        [--ranks N --cluster FILE] [--mpirun CMD]

Prints `MISMATCH ...` for each difference and `NAME: checked K outputs, M
mismatched`; exits 1 on a mismatch or a failed command.
"""
import argparse
import os
import shlex
import subprocess
import sys

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
RUN_ORT = os.path.join(ROOT, "test", "oracle", "run_ort.js")


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"FAILED {' '.join(cmd)}: {proc.stderr.strip()[-2000:]}")
    return proc.returncode == 0


def compare(name, got, want, rtol, atol):
    if got.shape != want.shape or got.dtype != want.dtype:
        print(f"MISMATCH {name}: got {got.dtype}{list(got.shape)}, "
              f"expected {want.dtype}{list(want.shape)}")
        return False
    if want.dtype.kind == "f":
        # The absolute tolerance scales with the output's largest value: a
        # float32 sum of many products (a 3-D convolution) added in another
        # order differs by a few ulps of its terms, not of its result.
        finite = np.abs(want[np.isfinite(want)])
        scale = max(1.0, float(finite.max())) if finite.size else 1.0
        ok = np.allclose(got, want, rtol=rtol, atol=atol * scale, equal_nan=True)
    else:
        ok = np.array_equal(got, want)
    if not ok:
        print(f"MISMATCH {name}: got {got.ravel()[:8]}, expected {want.ravel()[:8]}")
    return ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument("dir")
    p.add_argument("name")
    p.add_argument("dist_opt")
    p.add_argument("dist_run")
    p.add_argument("--ranks", type=int, default=0)
    p.add_argument("--cluster", default="cpu")
    p.add_argument("--mpirun", default="mpirun --oversubscribe")
    args = p.parse_args()

    path = os.path.join(args.dir, args.name + ".onnx")
    model = onnx.load(path)
    feed = []
    for i in model.graph.input:
        feed += ["--input", f"{i.name}={os.path.join(args.dir, f'{args.name}.{i.name}.npy')}"]
    work = os.path.join(args.dir, args.name + ".work")
    one = os.path.join(work, "one.dist")
    if not (run(["node", RUN_ORT, path, *feed, "--output-dir", os.path.join(work, "ort")]) and
            run([args.dist_opt, path, "--devices=1", "-o", one]) and
            run([args.dist_run, one, *feed, "--output-dir", os.path.join(work, "one")])):
        return 1
    outputs = [o.name for o in model.graph.output]
    load = lambda sub, o: np.load(os.path.join(work, sub, o + ".npy"))
    bad = sum(not compare(o, load("one", o), load("ort", o), 1e-5, 1e-6) for o in outputs)
    if args.ranks:
        many = os.path.join(work, "many.dist")
        if not (run([args.dist_opt, path, f"--devices={args.ranks}",
                     f"--cluster={args.cluster}", "-o", many]) and
                run([*shlex.split(args.mpirun), "-np", str(args.ranks), args.dist_run, many,
                     *feed, "--output-dir", os.path.join(work, "many")])):
            return 1
        bad += sum(not compare(f"{o} on {args.ranks} ranks", load("many", o), load("one", o),
                               1e-5, 1e-6) for o in outputs)
    print(f"{args.name}: checked {len(outputs)} outputs, {bad} mismatched")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
