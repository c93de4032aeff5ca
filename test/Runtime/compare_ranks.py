#!/usr/bin/python3
"""Runs a compiled program on 1 rank and a partitioned one on N ranks with
the same inputs, and checks that every output agrees.

    /usr/bin/python3 compare_ranks.py --dist-run PATH --one ONE.dist \\
        --many MANY.dist -n N --input NAME=FILE [--input ...] \\
        [--mpirun "mpirun --oversubscribe"] [--rtol 1e-5] [--atol A] \\
        [--workdir DIR]

`dist-run ONE.dist` runs alone, `MPIRUN -np N dist-run MANY.dist` under MPI;
each writes every graph output as DIR/<name>.npy. Both runs must produce the
same outputs (names, dtypes, shapes), and each output of the N-rank run must
equal the 1-rank output within `rtol` (default 1e-5) and an absolute floor
`atol`, by default `rtol` times the largest magnitude of that output (a
partitioned sum adds its terms in another order, so elements that cancel to
near zero differ in their last bits). Prints one line per output with the
largest absolute and relative difference; exits 1 on any mismatch or failed
run. Works for any pair of artifacts, from .mlir or ONNX models alike.
"""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np


def run(cmd, what):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(f"compare_ranks: {what} failed (exit {proc.returncode}): "
                         f"{' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
        sys.exit(1)


def load_outputs(folder):
    return {f[:-4]: np.load(os.path.join(folder, f))
            for f in sorted(os.listdir(folder)) if f.endswith(".npy")}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist-run", dest="dist_run", required=True)
    parser.add_argument("--one", required=True, help="the 1-rank artifact")
    parser.add_argument("--many", required=True, help="the N-rank artifact")
    parser.add_argument("-n", type=int, required=True, help="ranks of --many")
    parser.add_argument("--input", action="append", default=[],
                        help="NAME=FILE, as dist-run takes it")
    parser.add_argument("--mpirun", default="mpirun --oversubscribe")
    parser.add_argument("--rtol", type=float, default=1e-5)
    parser.add_argument("--atol", type=float, default=None)
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()

    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
    os.environ.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    work = args.workdir or tempfile.mkdtemp(prefix="compare_ranks.")
    one_dir = os.path.join(work, "one")
    many_dir = os.path.join(work, f"ranks-{args.n}")
    inputs = [f"--input={i}" for i in args.input]
    run([args.dist_run, args.one, *inputs, "--output-dir", one_dir],
        "the 1-rank run")
    run([*shlex.split(args.mpirun), "-np", str(args.n), args.dist_run,
         args.many, *inputs, "--output-dir", many_dir], f"the {args.n}-rank run")

    one, many = load_outputs(one_dir), load_outputs(many_dir)
    if not one:
        print("compare_ranks: the 1-rank run wrote no outputs")
        return 1
    if sorted(one) != sorted(many):
        print(f"compare_ranks: outputs differ: 1 rank {sorted(one)}, "
              f"{args.n} ranks {sorted(many)}")
        return 1
    ok = True
    for name, want in one.items():
        got = many[name]
        if got.shape != want.shape or got.dtype != want.dtype:
            print(f"FAIL {name}: {args.n} ranks give {got.dtype}{list(got.shape)}, "
                  f"1 rank {want.dtype}{list(want.shape)}")
            ok = False
            continue
        w = want.astype(np.float64)
        g = got.astype(np.float64)
        scale = float(np.abs(w).max()) if w.size else 0.0
        atol = args.atol if args.atol is not None else args.rtol * scale
        diff = np.abs(g - w)
        worst = float(diff.max()) if diff.size else 0.0
        rel = float((diff / np.maximum(np.abs(w), 1e-30)).max()) if diff.size else 0.0
        good = np.allclose(g, w, rtol=args.rtol, atol=atol, equal_nan=True)
        print(f"{'PASS' if good else 'FAIL'} {name} {list(w.shape)}: largest "
              f"difference {worst:.3g} (relative {rel:.3g}, largest magnitude "
              f"{scale:.3g}; rtol {args.rtol:g}, atol {atol:.3g})")
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
