#!/usr/bin/python3
"""Planning time of shape-only GPT graphs (no weights are ever read).

    /usr/bin/python3 bench/plan_time.py --dist-opt build/bin/dist-opt

Builds shape-only GPT models with models/shape_only_gpt.py (1.3B, 13B, 175B;
batch dimension symbolic, imported at 1 with --shape; sequence 2048, fp16)
and times `dist-opt --cluster dgx-a100-80g --devices N --mode train --batch B`
end to end (import + planning over every micro-batch size, grid, recompute,
ZeRO stage, schedule and chunks + report), and prints the planner's own
planning time (the micro-batch sizes' imports included), the size of the
chosen grid's integer program (`ilp` of --report-json: columns and rows
after its reductions), the grid and the micro-batch size it chose.

    /usr/bin/python3 bench/plan_time.py --dist-opt build/bin/dist-opt \
        --sweep 1024,65536,262144,1048576

plans GPT 1.3B for each device count instead (one micro-batch per
data-parallel replica), to show how planning time grows with the cluster.

    /usr/bin/python3 bench/plan_time.py --dist-opt build/bin/dist-opt --inference

plans GPT 175B for inference on 64 devices (batch 1 and 8, sequence 2048,
exported in fp16 and in fp32; every grid dp x tp x pp searched) and prints
the size of the chosen grid's ILP (`ilp` of --report-json: variables,
constraints), its gap (0: proven optimal), the predicted step and how many
layer copies take the choice that needs less memory (`mixed`).
"""
import json
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = [
    # name, layers, hidden, heads, devices, global batch
    ("gpt-1.3b", 24, 2048, 16, 8, 512),
    ("gpt-13b", 40, 5120, 40, 64, 1024),
    ("gpt-175b", 96, 12288, 96, 1024, 1536),
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dist-opt", dest="dist_opt", required=True)
    p.add_argument("--sweep", default="",
                   help="comma-separated device counts to plan GPT 1.3B for")
    p.add_argument("--inference", action="store_true",
                   help="plan GPT 175B for inference on 64 devices instead")
    args = p.parse_args()
    if args.inference:
        return inference(args)
    models = MODELS
    if args.sweep:
        name, layers, hidden, heads = MODELS[0][:4]
        models = [(name, layers, hidden, heads, int(n), 0)
                  for n in args.sweep.split(",")]
    print(f"{'model':10} {'devices':>7} {'wall s':>7} {'planner s':>9} "
          f"{'ilp vars':>8} {'rows':>5}  plan")
    # (micro-batch: the size chosen, of the sizes tried)
    with tempfile.TemporaryDirectory() as work:
        for name, layers, hidden, heads, devices, batch in models:
            model = os.path.join(work, name + ".onnx")
            subprocess.run([sys.executable,
                            os.path.join(HERE, "..", "models", "shape_only_gpt.py"),
                            "--layers", str(layers), "--hidden", str(hidden),
                            "--heads", str(heads), "--seq", "2048",
                            "--vocab", "51200", "--batch", "1", "--out", model,
                            "--dtype", "float16", "--no-check",
                            "--dynamic-batch"],
                           check=True, capture_output=True)
            # The whole search: grid, recompute, ZeRO stage, schedule and
            # chunks (nothing fixed).
            report = model + ".json"
            cmd = [args.dist_opt, model, "--shape", "input_ids=1x2048",
                   "--cluster", "dgx-a100-80g", "--devices", str(devices),
                   "--mode", "train", "--report-json", report]
            if batch:
                cmd += ["--batch", str(batch)]
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True)
            wall = time.perf_counter() - start
            first = (proc.stdout.splitlines() or [""])[0]
            m = re.search(r"planned in ([0-9.]+) s", first)
            planner = m.group(1) if m else "-"
            grid = re.search(r"grid (dp=\S+ tp=\S+ pp=\S+)", first)
            outcome = grid.group(1) if grid else (proc.stderr.strip() or "?")
            ilp = {}
            if grid:
                with open(report) as f:
                    r = json.load(f)
                # The chosen grid's integer program (after its reductions).
                ilp = r.get("ilp", {})
                sizes = [t["micro_batch"] for t in r["micro_batch_sizes"]]
                outcome += (f" micro-batch {r['step']['plan']['microBatch']}"
                            f" (of {sizes or 'the model batch'})")
            print(f"{name:10} {devices:7} {wall:7.2f} {planner:>9} "
                  f"{ilp.get('variables', '-'):>8} "
                  f"{ilp.get('constraints', '-'):>5}  {outcome}")


def inference(args):
    print(f"{'dtype':>7} {'batch':>5} {'wall s':>7} {'planner s':>9} "
          f"{'ilp vars':>8} {'rows':>5} {'gap %':>6} {'step s':>7} "
          f"{'mixed':>6}  plan")
    with tempfile.TemporaryDirectory() as work:
        for dtype in ("float16", "float32"):
            for batch in (1, 8):
                inference_row(args, work, dtype, batch)


def inference_row(args, work, dtype, batch):
    model = os.path.join(work, f"gpt-175b-{dtype}-b{batch}.onnx")
    subprocess.run([sys.executable,
                    os.path.join(HERE, "..", "models", "shape_only_gpt.py"),
                    "--layers", "96", "--hidden", "12288", "--heads", "96",
                    "--seq", "2048", "--vocab", "51200", "--batch",
                    str(batch), "--out", model, "--dtype", dtype,
                    "--no-check"], check=True, capture_output=True)
    report = model + ".json"
    cmd = [args.dist_opt, model, "--cluster", "dgx-a100-80g",
           "--devices", "64", "--report-json", report]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    first = (proc.stdout.splitlines() or [""])[0]
    m = re.search(r"planned in ([0-9.]+) s", first)
    grid = re.search(r"grid (dp=\S+ tp=\S+ pp=\S+)", first)
    ilp, step, mixed = {}, "-", "-"
    if proc.returncode == 0:
        with open(report) as f:
            data = json.load(f)
        ilp = data.get("ilp", {})
        step = f"{data['step']['stepSeconds']:.3f}"
        # Layer copies that take the choice needing less memory, of all
        # (docs/planner.md, "Mixing layer copies").
        layers = data.get("layers", {})
        mixed = f"{layers.get('mixed_copies', 0)}/{layers.get('count', 0)}"
    # The gap is 0 when the plan is proven optimal (docs/planner.md).
    gap = f"{ilp['gap'] * 100:.2f}" if "gap" in ilp else "-"
    print(f"{dtype:>7} {batch:5} {wall:7.2f} {m.group(1) if m else '-':>9} "
          f"{ilp.get('variables', '-'):>8} "
          f"{ilp.get('constraints', '-'):>5} {gap:>6} {step:>7} {mixed:>6}  "
          f"{grid.group(1) if grid else proc.stderr.strip()}")


if __name__ == "__main__":
    main()
