#!/usr/bin/python3
"""The planner's predicted training step time and memory against measured ones.

    nice -n -19 /usr/bin/python3 bench/train_plan_vs_measured.py --build BUILD_DIR
        [--models gpt,bert,mixer] [--steps 8] [--threads 1] [--json FILE] [--keep DIR]

For models of models/training/models.py (exported by models/training/export.py:
eval(), opset 17, do_constant_folding=False, static batch 4) and the plans

    1 rank, and with recompute=full; 2 ranks: the planner's choice, dp=2,
    tp=2, dp=2 with zero=1; 4 ranks: dp=4, dp=2,tp=2 (training),

  - predicted: `dist-opt model.onnx --shape ... --mode train --loss cross-entropy
    --optimizer adamw --lr 1e-3 --cluster cpu --devices N --plan P --report-json
    r.json -o t.dist`: the report's `step.stepSeconds` and
    `step.memory.totalBytes` (the planner's bytes per device); a plan the
    compiler refuses is skipped and the reason printed;
  - measured: `mpirun --oversubscribe -np N dist-run t.dist --steps S --threads T
    --input NAME=F ...` (the same batch every step): the median of the per-step
    times it prints after the first step, and the memory lines it prints at the
    end: what the runtime allocated on rank 0 (its activation arena, its
    weights, which include the optimizer states, and its inputs), and how much
    rank 0's resident memory grew from before the program was built to its
    peak (VmHWM; this adds the kernels' and MPI's own buffers).

Prints per model a table (plan, predicted and measured ms, their ratio,
predicted MiB, allocated MiB and their ratio, resident growth MiB and its
ratio to the prediction) and the Spearman rank correlation of
predicted and measured step times (as bench/plan_vs_measured.py does for
inference), per model and pooled. Nothing is asserted: this is a benchmark
(issue 12 asks for the measured peak memory within 10% of the prediction).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "models", "training"))

from plan_vs_measured import spearman, cpu_model  # noqa: E402

PLANS = [(1, ""), (1, "recompute=full"), (2, ""), (2, "dp=2"), (2, "tp=2"),
         (2, "dp=2,zero=1"), (4, "dp=4"), (4, "dp=2,tp=2")]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
STEP_RE = re.compile(r"^step (\d+) loss (\S+) time (\S+) ms$", re.M)
MEM_RE = re.compile(r"memory: arena (\d+) bytes for (\d+) bytes of values; "
                    r"weights (\d+) bytes; inputs (\d+) bytes")
RES_RE = re.compile(r"resident: peak (\d+) bytes, (\d+) bytes before")


def export(name, work):
    """Exports `name` and writes its batch; returns (onnx, shape flags,
    input flags)."""
    import numpy as np
    import torch
    import models
    folder = os.path.join(work, name)
    subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "models", "training",
                                                      "export.py"),
                    "--model", name, "--out", folder], check=True,
                   stdout=subprocess.DEVNULL)
    meta = json.load(open(os.path.join(folder, "meta.json")))
    spec = models.TRAINING_MODELS[name]
    batch = spec.make_batch(torch.Generator().manual_seed(0))
    shapes, inputs = [], []
    for i, t in zip(meta["inputs"], batch):
        path = os.path.join(folder, i["name"] + ".npy")
        np.save(path, t.numpy())
        shapes += ["--shape", i["name"] + "=" + "x".join(map(str, t.shape))]
        inputs += ["--input", f"{i['name']}={path}"]
    labels = np.random.default_rng(0).integers(
        0, meta["classes"], size=meta["logits_shape"][:-1], dtype=np.int64)
    path = os.path.join(folder, "labels.npy")
    np.save(path, labels)
    inputs += ["--input", f"labels={path}"]
    return os.path.join(folder, "model.onnx"), shapes, inputs


def run_plan(args, model, devices, plan, work):
    """Predicts and measures one plan: a dict, or one with `refused`."""
    onnx_path, shapes, inputs = model
    tag = f"{os.path.basename(os.path.dirname(onnx_path))}.{devices}." + \
        (plan.replace(",", "_").replace("=", "") or "auto")
    report = os.path.join(work, tag + ".json")
    artifact = os.path.join(work, tag + ".dist")
    cmd = [args.dist_opt, onnx_path, *shapes, "--mode", "train", "--loss",
           "cross-entropy", "--optimizer", "adamw", "--lr", "1e-3", "--cluster",
           args.cluster, "--devices", str(devices), "--report-json", report,
           "-o", artifact]
    if plan:
        cmd += ["--plan", plan]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        return {"refused": (r.stderr.strip().splitlines() or ["?"])[-1]}
    step = json.load(open(report))["step"]
    run = ["mpirun", "--oversubscribe", "-np", str(devices), args.dist_run,
           artifact, "--steps", str(args.steps), "--threads", str(args.threads),
           *inputs]
    r = subprocess.run(run, capture_output=True, text=True, env=ENV)
    if r.returncode:
        return {"refused": "dist-run failed: " +
                (r.stderr.strip().splitlines() or ["?"])[-1]}
    times = [float(m.group(3)) for m in STEP_RE.finditer(r.stdout)]
    mem = MEM_RE.search(r.stdout)
    res = RES_RE.search(r.stdout)
    return {
        "predicted_ms": step["stepSeconds"] * 1e3,
        "measured_ms": statistics.median(times[1:] or times),
        "predicted_bytes": step["memory"]["totalBytes"],
        "measured_bytes": (int(mem.group(1)) + int(mem.group(3)) +
                           int(mem.group(4))) if mem else None,
        "resident_growth_bytes": (int(res.group(1)) - int(res.group(2)))
        if res else None,
        "losses": [float(m.group(2)) for m in STEP_RE.finditer(r.stdout)],
    }


def report_model(name, rows):
    print(f"\n{name}")
    print(f"  {'plan':<22}{'pred ms':>10}{'meas ms':>10}{'meas/pred':>10}"
          f"{'pred MiB':>10}{'alloc MiB':>10}{'alloc/pred':>11}"
          f"{'RSS+ MiB':>10}{'RSS+/pred':>10}")
    for (devices, plan), row in rows:
        label = f"{devices}:{plan or 'planner'}"
        if "refused" in row:
            print(f"  {label:<22}refused: {row['refused']}")
            continue
        mib = 1 / (1 << 20)
        meas_b = row["measured_bytes"] or 0
        rss_b = row["resident_growth_bytes"] or 0
        pred_b = row["predicted_bytes"]
        print(f"  {label:<22}{row['predicted_ms']:>10.3f}{row['measured_ms']:>10.3f}"
              f"{row['measured_ms'] / row['predicted_ms']:>10.2f}"
              f"{pred_b * mib:>10.3f}{meas_b * mib:>10.3f}"
              f"{meas_b / pred_b:>11.3f}{rss_b * mib:>10.3f}"
              f"{rss_b / pred_b:>10.2f}")
    ok = [r for _, r in rows if "refused" not in r]
    rho = spearman([r["predicted_ms"] for r in ok], [r["measured_ms"] for r in ok]) \
        if len(ok) > 2 else float("nan")
    print(f"  Spearman (step time, {len(ok)} plans): {rho:.3f}")
    return rho, ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--models", default="gpt,bert,mixer")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cluster", default="cpu")
    ap.add_argument("--json")
    ap.add_argument("--keep")
    args = ap.parse_args()
    args.dist_opt = os.path.join(args.build, "bin", "dist-opt")
    args.dist_run = os.path.join(args.build, "bin", "dist-run")
    work = args.keep or tempfile.mkdtemp(prefix="train-plan-")
    os.makedirs(work, exist_ok=True)
    print(f"{cpu_model()}, {os.cpu_count()} cores; OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE', '')} OPENBLAS_L2_SIZE="
          f"{os.environ.get('OPENBLAS_L2_SIZE', '')}; {args.steps} steps, "
          f"{args.threads} thread(s) per rank")
    results, pooled_pred, pooled_meas, rhos = {}, [], [], {}
    try:
        for name in args.models.split(","):
            model = export(name, work)
            rows = [((d, p), run_plan(args, model, d, p, work)) for d, p in PLANS]
            rho, ok = report_model(name, rows)
            rhos[name] = rho
            pooled_pred += [r["predicted_ms"] for r in ok]
            pooled_meas += [r["measured_ms"] for r in ok]
            results[name] = [{"devices": d, "plan": p, **r} for (d, p), r in rows]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    pooled = spearman(pooled_pred, pooled_meas) if len(pooled_pred) > 2 else float("nan")
    print("\nSpearman per model: " +
          ", ".join(f"{k} {v:.3f}" for k, v in rhos.items()) +
          f"; pooled ({len(pooled_pred)} plans): {pooled:.3f}")
    if args.json:
        json.dump({"models": results, "spearman": rhos, "pooled": pooled},
                  open(args.json, "w"), indent=1)


if __name__ == "__main__":
    main()
