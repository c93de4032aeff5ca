#!/usr/bin/python3
"""Trains a PyTorch model that computes its own loss (exported with it, as
ONNX SoftmaxCrossEntropyLoss or LogSoftmax + NegativeLogLikelihoodLoss) with
`dist-opt --mode train --loss output:loss`, and checks every step's loss
against PyTorch's from the same initial weights.

    /usr/bin/python3 train_exported_loss.py --kind ce|nll --out DIR
        --dist-opt BIN --dist-run BIN [--devices N --cluster FILE] [--mpirun CMD]

ce:  a classifier with nn.CrossEntropyLoss(weight=..., ignore_index=3):
     class weights and ignored labels (the weights are a buffer, which
     PyTorch does not train: --freeze loss.weight).
nll: a per-position classifier over a sequence, log(softmax) over the class
     dim 1 and nll_loss(reduction="sum") on (N, C, T) scores.

8 SGD steps (lr 0.1, momentum 0.9) on one batch; losses within rtol 1e-5.
With --devices N the step is planned for N devices of --cluster (default
`cpu`) and run under MPI; the plan's report is printed. Prints `step K: dist-opt L, PyTorch L` and `N steps match` (exit 0) or
the first mismatch (exit 1).
"""
import argparse
import csv
import os
import shlex
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS, LR, MOMENTUM = 8, 0.1, 0.9


class CrossEntropyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 32)
        self.fc2 = nn.Linear(32, 6)
        weight = torch.tensor([1.0, 0.5, 2.0, 1.5, 0.75, 1.25])
        self.loss = nn.CrossEntropyLoss(weight=weight, ignore_index=3)

    def forward(self, x, labels):
        return self.loss(self.fc2(torch.relu(self.fc1(x))), labels)


class SequenceNllNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(12, 24)
        self.fc2 = nn.Linear(24, 5)

    def forward(self, x, labels):  # x: N x T x 12, labels: N x T
        scores = self.fc2(torch.tanh(self.fc1(x))).transpose(1, 2)  # N x C x T
        # log(softmax) rather than log_softmax: the exporter fuses
        # log_softmax + nll_loss into SoftmaxCrossEntropyLoss.
        return F.nll_loss(torch.log(F.softmax(scores, dim=1)), labels, reduction="sum")


def make(kind):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    if kind == "ce":
        net = CrossEntropyNet()
        x = torch.randn(16, 12, generator=g)
        labels = torch.randint(0, 6, (16,), generator=g)
    else:
        net = SequenceNllNet()
        x = torch.randn(4, 5, 12, generator=g)
        labels = torch.randint(0, 5, (4, 5), generator=g)
    return net, x, labels


def pytorch_losses(net, x, labels):
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = net(x, labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def run(cmd):
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"FAILED {' '.join(cmd)}:\n{proc.stderr.strip()[-3000:]}")
        sys.exit(1)
    return proc.stdout


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kind", choices=["ce", "nll"], required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--dist-opt", dest="dist_opt", required=True)
    p.add_argument("--dist-run", dest="dist_run", required=True)
    p.add_argument("--devices", type=int, default=1)
    p.add_argument("--cluster", default="cpu")
    p.add_argument("--mpirun", default="mpirun --oversubscribe")
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)

    net, x, labels = make(args.kind)
    model = os.path.join(args.out, "model.onnx")
    torch.onnx.export(net, (x, labels), model, input_names=["x", "labels"],
                      output_names=["loss"], opset_version=13)
    np.save(os.path.join(args.out, "x.npy"), x.numpy())
    np.save(os.path.join(args.out, "labels.npy"), labels.numpy())
    want = pytorch_losses(net, x, labels)
    ops = sorted({n.op_type for n in __import__("onnx").load(model).graph.node})
    print("exported ops:", " ".join(ops))

    step = os.path.join(args.out, "train.dist")
    freeze = ["--freeze=loss.weight"] if args.kind == "ce" else []
    report = run([args.dist_opt, model, "--mode=train", "--loss=output:loss",
                  "--optimizer=sgd", f"--lr={LR}", f"--momentum={MOMENTUM}", *freeze,
                  f"--cluster={args.cluster}", f"--devices={args.devices}", "--report",
                  "-o", step])
    if args.devices > 1:
        print(report)
    log = os.path.join(args.out, "losses.csv")
    launch = [*shlex.split(args.mpirun), "-np", str(args.devices)] if args.devices > 1 else []
    run([*launch, args.dist_run, step, f"--steps={STEPS}",
         f"--input=x={os.path.join(args.out, 'x.npy')}",
         f"--input=labels={os.path.join(args.out, 'labels.npy')}", f"--loss-log={log}"])
    with open(log, newline="") as f:
        got = [float(row["loss"]) for row in csv.DictReader(f)]
    if len(got) != STEPS:
        print(f"expected {STEPS} losses, found {len(got)}")
        return 1
    for k, (a, b) in enumerate(zip(got, want), 1):
        print(f"step {k}: dist-opt {a:.7f}, PyTorch {b:.7f}")
        if not np.isclose(a, b, rtol=1e-5, atol=0):
            print(f"MISMATCH at step {k}")
            return 1
    print(f"{STEPS} steps match")
    return 0


if __name__ == "__main__":
    sys.exit(main())
