#!/usr/bin/python3
"""The pipeline bubble measured from dist-run's trace against the planner's.

    nice -n -19 /usr/bin/python3 bench/pipeline_bubble.py --build BUILD_DIR
        [--layers 8 --dim 256 --heads 4 --vocab 512 --seq 64]
        [--micro-batch 2] [--micro-batches 8] [--stages 2,4] [--repeat 3]
        [--keep DIR]

A GPT of models/training/models.py (by default 8 pre-LN blocks, d=256,
sequence 64, vocabulary 512), exported as the project exports models
(eval(), opset 17, do_constant_folding=False), is compiled with the
micro-batch as its batch, for each number of stages p:

    dist-opt model.onnx --shape input_ids=BxT --cluster cpu --devices p
        --plan pp=p --report-json r.json -o p.dist

and run on a batch of m micro-batches under GPipe (inference: one forward
per micro-batch and stage):

    mpirun --oversubscribe -np p dist-run p.dist --threads 1 --repeat R
        --input input_ids=ids.npy --trace t.json --output-dir out

From the trace of the last run, each rank's busy time is the sum of its
"stage S micro-batch J" slots (the stage program's run, without waiting
for its inputs), and the span is from the first slot's start to the last
slot's end over all ranks; the idle fraction is 1 - busy / span, averaged
over the ranks. The planner's bubble fraction is (p - 1) / (m + p - 1) of
balanced stages; its step time is (m + p - 1) times the slowest stage's
micro-batch time from the report (`step.stages[].microBatchSeconds`).
Prints one row per p: predicted and measured idle fraction, predicted and
measured step time (dist-run's median of R runs). Nothing is asserted.

With --train, the model's training step (cross-entropy, SGD) is compiled
instead, priced with --batch m*B, and trained for 3 steps under the
schedule --schedule names (default 1f1b):

    dist-opt model.onnx --shape input_ids=BxT --mode train --loss
        cross-entropy --optimizer sgd --cluster cpu --devices p
        --plan pp=p --batch mB --report-json r.json -o p.dist
    mpirun -np p dist-run p.dist --threads 1 --steps 3 --schedule S
        --input input_ids=ids.npy --input labels=labels.npy --trace t.json

From the last step in the trace (each rank's slots after its second
"stage S update"), busy time is the sum of the "stage S forward J" and
"stage S backward J" slots and the span runs from the first to the last of
them over all ranks; the measured step time is that span plus the longest
update. The predicted step time is the report's `step.stepSeconds`.

With --schedule interleaved (training only), the step is compiled with
`--plan pp=p,chunks=V` (--chunks, default 2: p x V stages, V per rank) and
run with `--schedule interleaved`; the planner's idle fraction is then
((p - 1) / V) / (m + (p - 1) / V) of balanced positions.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "models", "training"))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import models  # noqa: E402

ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
SLOT_RE = re.compile(r"^stage (\d+) micro-batch (\d+)$")
MEDIAN_RE = re.compile(r"median run time: ([0-9.]+) ms")


def export(args, path):
    torch.manual_seed(0)
    model = models.GPT(vocab=args.vocab, seq=args.seq, dim=args.dim,
                       heads=args.heads, layers=args.layers, tied=False).eval()
    ids = torch.randint(0, args.vocab, (args.micro_batch, args.seq),
                        generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.onnx.export(model, (ids,), path, input_names=["input_ids"],
                          output_names=["logits"], opset_version=models.OPSET,
                          do_constant_folding=False)


def idle_fraction(trace_path):
    """The ranks' mean idle fraction over the span of all their slots."""
    events = json.load(open(trace_path))["traceEvents"]
    busy, first, last = {}, None, None
    for e in events:
        if e.get("ph") != "X" or not SLOT_RE.match(e.get("name", "")):
            continue
        start, end = e["ts"], e["ts"] + e["dur"]
        busy[e["pid"]] = busy.get(e["pid"], 0.0) + e["dur"]
        first = start if first is None else min(first, start)
        last = end if last is None else max(last, end)
    span = last - first
    return sum(1 - b / span for b in busy.values()) / len(busy), span / 1e3


TRAIN_SLOT_RE = re.compile(r"^stage (\d+) (forward|backward) (\d+)$")
UPDATE_RE = re.compile(r"^stage (\d+) update$")


def last_step_idle(trace_path, steps):
    """Idle fraction and span (ms, with the slowest update) of the last
    training step in the trace."""
    events = [e for e in json.load(open(trace_path))["traceEvents"] if e.get("ph") == "X"]
    slots = {}
    for e in sorted(events, key=lambda e: e["ts"]):
        name = e.get("name", "")
        if UPDATE_RE.match(name) or TRAIN_SLOT_RE.match(name):
            slots.setdefault(e["pid"], []).append(e)
    busy, first, last, update = {}, None, None, 0.0
    for pid, evs in slots.items():
        updates = [i for i, e in enumerate(evs) if UPDATE_RE.match(e["name"])]
        # A rank runs one update per stage it holds (v under the
        # interleaved schedule) at the end of every step.
        per_step = max(1, len(updates) // steps)
        start = (updates[(steps - 1) * per_step - 1] + 1
                 if len(updates) >= steps else 0)
        for e in evs[start:]:
            if UPDATE_RE.match(e["name"]):
                update = max(update, e["dur"])
                continue
            busy[pid] = busy.get(pid, 0.0) + e["dur"]
            first = e["ts"] if first is None else min(first, e["ts"])
            end = e["ts"] + e["dur"]
            last = end if last is None else max(last, end)
    span = last - first
    return sum(1 - b / span for b in busy.values()) / len(busy), (span + update) / 1e3


def train_stages(args, onnx_path, ids_path, labels_path, p, work):
    art = os.path.join(work, f"train-pp{p}.dist")
    report = os.path.join(work, f"train-pp{p}.json")
    m = args.micro_batches
    interleaved = args.schedule == "interleaved"
    plan = f"pp={p},chunks={args.chunks}" if interleaved else f"pp={p}"
    subprocess.run([os.path.join(args.build, "bin", "dist-opt"), onnx_path,
                    "--shape", f"input_ids={args.micro_batch}x{args.seq}",
                    "--mode", "train", "--loss", "cross-entropy", "--optimizer", "sgd",
                    "--lr", "0.01", "--cluster", "cpu", "--devices", str(p),
                    "--plan", plan, "--batch", str(m * args.micro_batch),
                    "--report-json", report, "-o", art], check=True,
                   stdout=subprocess.DEVNULL)
    step = json.load(open(report))["step"]
    trace = os.path.join(work, f"train-pp{p}.trace.json")
    subprocess.run(
        ["mpirun", "--oversubscribe", "-np", str(p),
         os.path.join(args.build, "bin", "dist-run"), art, "--threads", "1",
         "--steps", "3", "--schedule", args.schedule,
         "--input", f"input_ids={ids_path}", "--input", f"labels={labels_path}",
         "--trace", trace], check=True, capture_output=True, text=True, env=ENV)
    idle, step_ms = last_step_idle(trace, 3)
    bubble = (p - 1) / (args.chunks if interleaved else 1)
    return {"p": p, "predicted_idle": bubble / (m + bubble), "measured_idle": idle,
            "predicted_ms": step["stepSeconds"] * 1e3, "measured_ms": step_ms,
            "stage_ms": [round(s["microBatchSeconds"] * 1e3, 3) for s in step["stages"]]}


def run_stages(args, onnx_path, ids_path, p, work):
    art = os.path.join(work, f"pp{p}.dist")
    report = os.path.join(work, f"pp{p}.json")
    subprocess.run([os.path.join(args.build, "bin", "dist-opt"), onnx_path,
                    "--shape", f"input_ids={args.micro_batch}x{args.seq}",
                    "--cluster", "cpu", "--devices", str(p), "--plan", f"pp={p}",
                    "--report-json", report, "-o", art], check=True,
                   stdout=subprocess.DEVNULL)
    stages = json.load(open(report))["step"]["stages"]
    slowest = max(s["microBatchSeconds"] for s in stages)
    m = args.micro_batches
    trace = os.path.join(work, f"pp{p}.trace.json")
    out = subprocess.run(
        ["mpirun", "--oversubscribe", "-np", str(p),
         os.path.join(args.build, "bin", "dist-run"), art, "--threads", "1",
         "--repeat", str(args.repeat), "--input", f"input_ids={ids_path}",
         "--trace", trace, "--output-dir", os.path.join(work, f"out{p}")],
        check=True, capture_output=True, text=True, env=ENV).stdout
    median = float(MEDIAN_RE.search(out).group(1))
    idle, span_ms = idle_fraction(trace)
    return {"p": p, "predicted_idle": (p - 1) / (m + p - 1), "measured_idle": idle,
            "predicted_ms": (m + p - 1) * slowest * 1e3, "measured_ms": median,
            "span_ms": span_ms,
            "stage_ms": [round(s["microBatchSeconds"] * 1e3, 3) for s in stages]}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--layers", type=int, default=8)
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--micro-batch", type=int, default=2)
    ap.add_argument("--micro-batches", type=int, default=8)
    ap.add_argument("--stages", default="2,4")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep")
    ap.add_argument("--train", action="store_true",
                    help="the training step under --schedule instead of inference")
    ap.add_argument("--schedule", default="1f1b",
                    choices=["gpipe", "1f1b", "interleaved"])
    ap.add_argument("--chunks", type=int, default=2,
                    help="stages per rank of the interleaved schedule")
    args = ap.parse_args()
    if args.schedule == "interleaved" and not args.train:
        ap.error("--schedule interleaved runs training steps: add --train")
    work = args.keep or tempfile.mkdtemp(prefix="pipeline-bubble-")
    os.makedirs(work, exist_ok=True)
    try:
        onnx_path = os.path.join(work, "model.onnx")
        export(args, onnx_path)
        ids = np.random.default_rng(0).integers(
            0, args.vocab, (args.micro_batch * args.micro_batches, args.seq))
        ids_path = os.path.join(work, "ids.npy")
        np.save(ids_path, ids)
        labels_path = os.path.join(work, "labels.npy")
        np.save(labels_path, np.random.default_rng(1).integers(0, args.vocab, ids.shape))
        print(f"GPT: {args.layers} layers, d={args.dim}, seq {args.seq}, vocab "
              f"{args.vocab}; micro-batch {args.micro_batch}, m = "
              f"{args.micro_batches}; {os.cpu_count()} cores; 1 thread per rank; "
              f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')}")
        print(f"{'p':>3}{'idle pred':>11}{'idle meas':>11}{'step pred ms':>14}"
              f"{'step meas ms':>14}  stage ms (planner)")
        if args.train:
            print(f"training step, schedule {args.schedule}" +
                  (f", {args.chunks} chunks per rank"
                   if args.schedule == "interleaved" else ""))
        for p in [int(s) for s in args.stages.split(",")]:
            r = (train_stages(args, onnx_path, ids_path, labels_path, p, work) if args.train
                 else run_stages(args, onnx_path, ids_path, p, work))
            print(f"{p:>3}{r['predicted_idle']:>11.3f}{r['measured_idle']:>11.3f}"
                  f"{r['predicted_ms']:>14.2f}{r['measured_ms']:>14.2f}  "
                  f"{r['stage_ms']}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
