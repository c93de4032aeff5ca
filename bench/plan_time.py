#!/usr/bin/python3
"""Planning time of shape-only GPT graphs (no weights are ever read).

    /usr/bin/python3 bench/plan_time.py --dist-opt build/bin/dist-opt

Builds shape-only GPT models with models/shape_only_gpt.py (1.3B, 13B, 175B;
micro-batch 1, sequence 2048, fp16) and times `dist-opt --cluster
dgx-a100-80g --devices N --mode train` end to end (import + planning over
every grid + report), and prints the planner's own planning time and the
grid it chose.

    /usr/bin/python3 bench/plan_time.py --dist-opt build/bin/dist-opt \
        --sweep 1024,65536,262144,1048576

plans GPT 1.3B for each device count instead (one micro-batch per
data-parallel replica), to show how planning time grows with the cluster.
"""
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
    args = p.parse_args()
    models = MODELS
    if args.sweep:
        name, layers, hidden, heads = MODELS[0][:4]
        models = [(name, layers, hidden, heads, int(n), 0)
                  for n in args.sweep.split(",")]
    print(f"{'model':10} {'devices':>7} {'wall s':>7} {'planner s':>9}  plan")
    with tempfile.TemporaryDirectory() as work:
        for name, layers, hidden, heads, devices, batch in models:
            model = os.path.join(work, name + ".onnx")
            subprocess.run([sys.executable,
                            os.path.join(HERE, "..", "models", "shape_only_gpt.py"),
                            "--layers", str(layers), "--hidden", str(hidden),
                            "--heads", str(heads), "--seq", "2048",
                            "--vocab", "51200", "--batch", "1", "--out", model,
                            "--dtype", "float16", "--no-check"],
                           check=True, capture_output=True)
            cmd = [args.dist_opt, model, "--cluster", "dgx-a100-80g",
                   "--devices", str(devices), "--mode", "train",
                   "--plan", "recompute=full"]
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
            print(f"{name:10} {devices:7} {wall:7.2f} {planner:>9}  {outcome}")


if __name__ == "__main__":
    main()
