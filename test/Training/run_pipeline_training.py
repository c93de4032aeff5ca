#!/usr/bin/python3
"""Trains every generated test model in pipeline plans and checks that each
step's loss equals the 1-rank run's (issue 13).

    /usr/bin/python3 run_pipeline_training.py --dist-opt BIN --dist-run BIN \\
        --models DIR --plan pp=2 --devices 2 [--micro-batches 2] \\
        [--schedules gpipe,1f1b,interleaved] [--chunks 2] [--steps 4]
        [--only NAME,...]

For each model under DIR/<name>/opset17/ (model.onnx with a free batch
dimension, meta.json, input_*.npy, output_0_*.npy): the training step is
MSE of the first output against a target near it (the output plus noise),
SGD with momentum, clipped to a global norm of 1.0 (an update that sums
over every stage's gradients). The batch is the model's inputs twice over
(2b rows). dist-opt compiles it for 1 device at batch 2b, and for the plan
at the micro-batch 2b / M; dist-run trains both on the same batch (the
pipeline as M micro-batches, under each schedule), and every step's loss
must agree within rtol 1e-5. The interleaved schedule runs an artifact
compiled with `--plan PLAN,chunks=C` (C stages per rank group); a model
with fewer forward ops than stages is refused by dist-opt, and skipped.
Exits 1 after the first failure.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np

RTOL = 1e-5


def make_batch(folder, meta, work):
    """Writes the inputs (twice over) and an MSE target; returns the feeds
    and the batch's rows."""
    feeds, rows = [], None
    for i in meta["inputs"]:
        x = np.load(os.path.join(folder, i["file"]))
        x = np.concatenate([x, x])
        rows = x.shape[0]
        path = os.path.join(work, i["name"] + ".npy")
        np.save(path, x)
        feeds += ["--input", f"{i['name']}={path}"]
    out = meta["outputs"][0]
    y = np.load(os.path.join(folder, out["file"]))
    y = np.concatenate([y, y])
    noise = np.random.default_rng(0).standard_normal(y.shape)
    path = os.path.join(work, "target.npy")
    np.save(path, (y + 0.1 * noise).astype(y.dtype))
    return feeds + ["--input", f"target={path}"], rows


def compile_step(args, folder, meta, rows, devices, plan, path, batch=None):
    shapes = []
    for i in meta["inputs"]:
        dims = [rows] + list(i["shape"][1:])
        shapes += ["--shape", i["name"] + "=" + "x".join(str(d) for d in dims)]
    cmd = ([args.dist_opt, os.path.join(folder, "model.onnx")] + shapes +
           ["--mode", "train", "--loss", "mse:" + meta["outputs"][0]["name"],
            "--optimizer", "sgd", "--lr", "0.01", "--momentum", "0.9",
            "--clip-norm", "1.0", "--cluster", "cpu", "--devices", str(devices)] +
           (["--plan", plan] if plan else []) +
           (["--batch", str(batch)] if batch else []) + ["-o", path])
    return subprocess.run(cmd, capture_output=True, text=True)


def train(args, artifact, devices, feeds, log, extra):
    cmd = ([args.dist_run, artifact, "--steps", str(args.steps)] + feeds +
           ["--loss-log", log] + extra)
    if devices > 1:
        cmd = shlex.split(args.mpirun) + ["-np", str(devices)] + cmd
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stdout[-2000:] + r.stderr[-2000:]
    with open(log) as f:
        next(f)
        return [float(line.split(",")[1]) for line in f if line.strip()], ""


def check_model(args, name, folder, work):
    meta = json.load(open(os.path.join(folder, "meta.json")))
    feeds, rows = make_batch(folder, meta, work)
    if rows % args.micro_batches:
        return f"the batch of {rows} rows is not {args.micro_batches} micro-batches"
    one = os.path.join(work, "one.dist")
    r = compile_step(args, folder, meta, rows, 1, None, one)
    if r.returncode != 0:
        return "compiling for 1 device failed:\n" + r.stderr
    reference, err = train(args, one, 1, feeds, os.path.join(work, "one.csv"), [])
    if reference is None:
        return "training on 1 rank failed:\n" + err
    artifacts = {}
    for schedule in args.schedules.split(","):
        plan = args.plan
        if schedule == "interleaved":
            plan += f",chunks={args.chunks}"
        if plan not in artifacts:
            artifacts[plan] = os.path.join(work, f"pipeline{len(artifacts)}.dist")
            # Priced for the batch it runs (the interleaved schedule needs
            # the micro-batches in groups of pp).
            r = compile_step(args, folder, meta, rows // args.micro_batches,
                             args.devices, plan, artifacts[plan], batch=rows)
            if r.returncode != 0 and "need at least one op each" in r.stderr:
                # More stages than the model has forward ops (the MLP's 6
                # over pp=4 x 2 chunks): refused, as it must be.
                print(f"SKIP {name} {plan}: {r.stderr.strip().splitlines()[-1]}",
                      flush=True)
                del artifacts[plan]
                continue
            if r.returncode != 0:
                return f"compiling for {plan} failed:\n" + r.stderr
        losses, err = train(args, artifacts[plan], args.devices, feeds,
                            os.path.join(work, schedule + ".csv"), ["--schedule", schedule])
        if losses is None:
            return f"training with {schedule} failed:\n" + err
        worst = max(abs(a - b) / abs(a) for a, b in zip(reference, losses))
        ok = len(losses) == len(reference) and worst <= RTOL
        print(f"{'PASS' if ok else 'FAIL'} {name} {plan} m={args.micro_batches} "
              f"{schedule}: {len(losses)} steps, worst relative difference {worst:.2e} "
              f"(1 rank {reference[0]:.6g} .. {reference[-1]:.6g})", flush=True)
        if not ok:
            return f"losses differ: 1 rank {reference}, {schedule} {losses}"
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dist-opt", dest="dist_opt", required=True)
    p.add_argument("--dist-run", dest="dist_run", required=True)
    p.add_argument("--models", required=True)
    p.add_argument("--plan", required=True)
    p.add_argument("--devices", type=int, required=True)
    p.add_argument("--micro-batches", type=int, default=2)
    p.add_argument("--schedules", default="gpipe,1f1b,interleaved")
    p.add_argument("--chunks", type=int, default=2)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--only", default="")
    p.add_argument("--mpirun", default="mpirun --oversubscribe")
    args = p.parse_args()
    names = sorted(os.listdir(args.models))
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    folders = [(n, os.path.join(args.models, n, "opset17")) for n in names]
    folders = [(n, f) for n, f in folders if os.path.exists(os.path.join(f, "meta.json"))]
    if not folders:
        sys.exit(f"run_pipeline_training: no models under {args.models}")
    for name, folder in folders:
        with tempfile.TemporaryDirectory() as work:
            error = check_model(args, name, folder, work)
        if error:
            print(f"FAIL {name} {args.plan}: {error}", flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
