#!/usr/bin/python3
"""One training step of a GPT-2-style decoder: dist-run against PyTorch.

    nice -n -19 /usr/bin/python3 bench/train_vs_torch.py --build BUILD_DIR
        [--layers 12 --dim 768 --heads 12 --vocab 50257 --seq 128 --batch 4]
        [--threads 2] [--steps 4] [--keep DIR]

The model is GPT of models/training/models.py (token and position
embeddings, pre-LN blocks with causal self-attention, tanh GELU MLP, final
LayerNorm, LM head tied to the token embedding as in GPT-2), by default of
GPT-2 small's size (12 layers, d=768, 12 heads, vocab 50257, seq 128) at
batch 4. It is exported as the project exports models for training
(models/training/export.py): eval(), static shapes, opset 17,
do_constant_folding=False. Then, on the same threads:

  - dist-opt model.onnx --shape input_ids=BxT --mode train --loss cross-entropy
        --optimizer adamw --lr 1e-3 --weight-decay 0.01 --cluster cpu --devices 1
        -o t.dist
    dist-run t.dist --steps S --threads T --input input_ids=x.npy --input labels=y.npy
    (the median of the printed step times after the first step);
  - PyTorch (torch.set_num_threads(T)): the same model, the same batch,
    F.cross_entropy and torch.optim.AdamW(lr 1e-3, weight_decay 0.01), S steps
    of zero_grad, forward, backward, step; the median after the first step.

Prints both medians in ms, the ratio dist-run / PyTorch, the first losses of
both (they start from the same weights and batch, so they should agree), and
the compile time. Nothing is asserted: this is a benchmark.
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
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "models", "training"))

import models  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

STEP_RE = re.compile(r"^step (\d+) loss (\S+) time (\S+) ms$", re.M)


def build_model(args):
    torch.manual_seed(0)
    model = models.GPT(vocab=args.vocab, seq=args.seq, dim=args.dim,
                       heads=args.heads, layers=args.layers, tied=True)
    model.eval()
    return model


def export(model, ids, path):
    with torch.no_grad():
        torch.onnx.export(model, (ids,), path, input_names=["input_ids"],
                          output_names=["logits"], opset_version=models.OPSET,
                          do_constant_folding=False)


def torch_steps(model, ids, labels, args):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    times, losses = [], []
    for _ in range(args.steps):
        start = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits = model(ids)
        loss = F.cross_entropy(logits.reshape(-1, args.vocab), labels.reshape(-1))
        loss.backward()
        opt.step()
        times.append((time.perf_counter() - start) * 1e3)
        losses.append(float(loss))
    return times, losses


def dist_steps(args, onnx_path, work):
    x, y = os.path.join(work, "x.npy"), os.path.join(work, "y.npy")
    artifact = os.path.join(work, "t.dist")
    cmd = [os.path.join(args.build, "bin", "dist-opt"), onnx_path, "--shape",
           f"input_ids={args.batch}x{args.seq}", "--mode", "train", "--loss",
           "cross-entropy", "--optimizer", "adamw", "--lr", "1e-3",
           "--weight-decay", "0.01", "--cluster", "cpu", "--devices", "1",
           "--report-json", os.path.join(work, "report.json"), "-o", artifact]
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    compile_s = time.perf_counter() - start
    run = [os.path.join(args.build, "bin", "dist-run"), artifact, "--steps",
           str(args.steps), "--threads", str(args.threads), "--input",
           f"input_ids={x}", "--input", f"labels={y}"]
    out = subprocess.run(run, check=True, capture_output=True, text=True).stdout
    steps = STEP_RE.findall(out)
    with open(os.path.join(work, "report.json")) as f:
        predicted = json.load(f)["step"]["memory"]["totalBytes"]
    return ([float(t) for _, _, t in steps], [float(l) for _, l, _ in steps],
            compile_s, memory_lines(out, predicted))


def memory_lines(out, predicted):
    """The planner's memory per device beside what dist-run allocated (arena,
    weights with the optimizer states, inputs) and how much its resident
    memory grew to its peak."""
    mem = re.search(r"^memory: arena (\d+) .*; weights (\d+) bytes; "
                    r"inputs (\d+) bytes$", out, re.M)
    res = re.search(r"^resident: peak (\d+) bytes, (\d+) bytes before", out, re.M)
    if not mem:
        return "(no memory line)"
    mib = 1 / (1 << 20)
    allocated = sum(int(g) for g in mem.groups())
    text = (f"memory: predicted {predicted * mib:.1f} MiB, allocated "
            f"{allocated * mib:.1f} MiB ({allocated / predicted:.3f}x)")
    if res:
        growth = int(res.group(1)) - int(res.group(2))
        text += (f", resident growth to the peak {growth * mib:.1f} MiB "
                 f"({growth / predicted:.3f}x)")
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--dim", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--vocab", type=int, default=50257)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--keep")
    args = ap.parse_args()
    if args.steps < 2:
        sys.exit("error: --steps must be at least 2 (the first step is not timed)")
    torch.set_num_threads(args.threads)
    work = args.keep or tempfile.mkdtemp(prefix="train-vs-torch-")
    os.makedirs(work, exist_ok=True)
    try:
        g = torch.Generator().manual_seed(0)
        ids = torch.randint(0, args.vocab, (args.batch, args.seq), generator=g)
        labels = torch.randint(0, args.vocab, (args.batch, args.seq), generator=g)
        np.save(os.path.join(work, "x.npy"), ids.numpy())
        np.save(os.path.join(work, "y.npy"), labels.numpy())
        model = build_model(args)
        params = sum(p.numel() for p in model.parameters())
        onnx_path = os.path.join(work, "model.onnx")
        export(model, ids, onnx_path)
        print(f"GPT: {args.layers} layers, d={args.dim}, {args.heads} heads, vocab "
              f"{args.vocab}, seq {args.seq}, batch {args.batch}: {params / 1e6:.1f}M "
              f"parameters; {args.threads} threads; {args.steps} steps; "
              f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '')} "
              f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '')}", flush=True)
        d_times, d_losses, compile_s, mem = dist_steps(args, onnx_path, work)
        t_times, t_losses = torch_steps(model, ids, labels, args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    d_ms = statistics.median(d_times[1:])
    t_ms = statistics.median(t_times[1:])
    print(f"dist-opt compile: {compile_s:.1f} s")
    print(mem)
    print(f"losses: dist-run {d_losses[:2]}  PyTorch {t_losses[:2]}")
    print(f"dist-run step: {d_ms:.1f} ms (steps {[round(t, 1) for t in d_times]})")
    print(f"PyTorch step:  {t_ms:.1f} ms (steps {[round(t, 1) for t in t_times]})")
    print(f"ratio dist-run / PyTorch: {d_ms / t_ms:.2f}")


if __name__ == "__main__":
    main()
