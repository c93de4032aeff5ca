#!/usr/bin/python3
"""PyTorch reference training for the dist-opt training checks (issue 12).

    /usr/bin/python3 models/training/reference.py --model gpt --dir DIR \
        [--loss cross-entropy|mse] [--optimizer adamw|sgd] [--lr 1e-3] \
        [--betas 0.9,0.999] [--eps 1e-8] [--weight-decay 0.01] [--momentum 0.9] \
        [--clip-norm 1.0] [--steps 20] [--batches 1] [--data-seed 0] [--out DIR/reference]
        [--dtype float32|float64]

DIR holds the export of models/training/export.py (model.onnx, meta.json). The
model is rebuilt from models.py, its parameters are set from the initializers
of DIR/model.onnx (so PyTorch starts from exactly the exported weights), and it
is trained in eval() (no dropout) for --steps steps. Writes into --out:

  input_<name>.npy, labels.npy | target.npy   batch 0 (for dist-run --input)
  data_<name>.npy,  data_labels.npy | ...     all K = --batches batches stacked
                                              [K, ...] (for dist-run --data)
  losses.csv     `step,loss`, step 1-based, the loss of the forward pass of
                 each step (before that step's update)
  weights.npz    the trained parameters keyed by ONNX initializer name (a tied
                 weight once)
  config.json    the settings, for the driver and the checker

Step k (1-based) uses batch (k - 1) % K, as dist-run --data does; with K = 1
it is the --input batch every step. The losses are PyTorch's float32 values;
--dtype float64 trains in float64 instead (same data, weights saved as
float32), which shows how far float32 rounding alone moves losses and weights.
"""

import argparse
import copy
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import models  # noqa: E402  (exits with a clear message when torch is missing)
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.numpy_helper  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, help=",".join(models.TRAINING_MODELS))
    ap.add_argument("--dir", required=True, help="export directory (model.onnx, meta.json)")
    ap.add_argument("--out", help="output directory (default DIR/reference)")
    ap.add_argument("--loss", choices=["cross-entropy", "mse"], default="cross-entropy")
    ap.add_argument("--optimizer", choices=["adamw", "sgd"], default="adamw")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--betas", default="0.9,0.999")
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--momentum", type=float, default=0.0)
    ap.add_argument("--clip-norm", type=float, default=None)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batches", type=int, default=1, help="K batches, step k uses (k-1) %% K")
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    args = ap.parse_args(argv)
    if args.model not in models.TRAINING_MODELS:
        ap.error(f"unknown model '{args.model}'; known: {', '.join(models.TRAINING_MODELS)}")
    try:
        b1, b2 = (float(b) for b in args.betas.split(","))
    except ValueError:
        ap.error(f"--betas wants two numbers 'b1,b2', got '{args.betas}'")
    args.betas = (b1, b2)
    if args.steps < 1 or args.batches < 1:
        ap.error("--steps and --batches must be at least 1")
    if args.clip_norm is not None and args.clip_norm <= 0:
        ap.error("--clip-norm must be positive")
    args.out = args.out or os.path.join(args.dir, "reference")
    return args


def load_initial_weights(module, meta, onnx_path):
    """Set every parameter from its initializer in the exported model."""
    inits = {i.name: i for i in onnx.load(onnx_path).graph.initializer}
    by_name = dict(module.named_parameters())
    with torch.no_grad():
        for p in meta["parameters"]:
            if p["onnx"] not in inits:
                raise ValueError(f"{onnx_path} has no initializer '{p['onnx']}'")
            value = torch.from_numpy(onnx.numpy_helper.to_array(inits[p["onnx"]]).copy())
            target = next(by_name[t] for t in p["torch"] if t in by_name)
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(f"initializer '{p['onnx']}' has shape {tuple(value.shape)}, "
                                 f"the parameter {tuple(target.shape)}")
            target.copy_(value)


def make_batches(spec, meta, loss, k, seed):
    """K batches: a tuple of model inputs and the labels (int64) or target (f32)."""
    g = torch.Generator().manual_seed(seed)
    logits_shape = tuple(meta["logits_shape"])
    batches = []
    for _ in range(k):
        inputs = spec.make_batch(g)
        if loss == "cross-entropy":
            y = torch.randint(0, meta["classes"], logits_shape[:-1], generator=g, dtype=torch.int64)
        else:
            y = torch.randn(logits_shape, generator=g)
        batches.append((inputs, y))
    return batches


def save_npy(path, array):
    np.save(path + ".tmp.npy", np.ascontiguousarray(array))
    os.replace(path + ".tmp.npy", path)


def write_batches(out, spec, loss, batches):
    y_name = "labels" if loss == "cross-entropy" else "target"
    names = [i.name for i in spec.inputs] + [y_name]
    columns = [list(b[0]) + [b[1]] for b in batches]
    for j, name in enumerate(names):
        save_npy(os.path.join(out, f"input_{name}.npy"), columns[0][j].numpy())
        save_npy(os.path.join(out, f"data_{name}.npy"),
                 np.stack([c[j].numpy() for c in columns]))
    return names


def make_optimizer(args, params):
    if args.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=args.lr, betas=args.betas, eps=args.eps,
                                 weight_decay=args.weight_decay)
    return torch.optim.SGD(params, lr=args.lr, momentum=args.momentum, dampening=0.0,
                           weight_decay=args.weight_decay, nesterov=False)


def loss_of(args, logits, y):
    if args.loss == "cross-entropy":
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    return F.mse_loss(logits, y)


def train(args, module, batches):
    """Train in place; returns the per-step losses (float32 values)."""
    module.eval()
    params = list(module.parameters())
    opt = make_optimizer(args, params)
    losses = []
    for step in range(args.steps):
        inputs, y = batches[step % len(batches)]
        opt.zero_grad(set_to_none=False)
        loss = loss_of(args, module(*inputs), y)
        loss.backward()
        if args.clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, args.clip_norm)
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def write_results(out, meta, module, losses):
    with open(os.path.join(out, "losses.csv.tmp"), "w") as f:
        f.write("step,loss\n")
        for i, v in enumerate(losses, 1):
            f.write(f"{i},{v:.9g}\n")
    os.replace(os.path.join(out, "losses.csv.tmp"), os.path.join(out, "losses.csv"))
    by_name = dict(module.named_parameters())
    weights = {}
    for p in meta["parameters"]:
        t = next(by_name[n] for n in p["torch"] if n in by_name)
        weights[p["onnx"]] = t.detach().numpy().astype(np.float32)
    np.savez(os.path.join(out, "weights.tmp.npz"), **weights)
    os.replace(os.path.join(out, "weights.tmp.npz"), os.path.join(out, "weights.npz"))


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)  # the same sums in the same order on every machine
    spec = models.TRAINING_MODELS[args.model]
    onnx_path = os.path.join(args.dir, "model.onnx")
    try:
        with open(os.path.join(args.dir, "meta.json")) as f:
            meta = json.load(f)
        if meta.get("model") != args.model:
            raise ValueError(f"{args.dir} holds model '{meta.get('model')}', not '{args.model}'")
        exported = spec.build()
        load_initial_weights(exported, meta, onnx_path)
    except (OSError, ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    module = copy.deepcopy(exported)  # the exported weights stay untouched
    os.makedirs(args.out, exist_ok=True)
    batches = make_batches(spec, meta, args.loss, args.batches, args.data_seed)
    names = write_batches(args.out, spec, args.loss, batches)
    if args.dtype == "float64":
        module = module.double()
        batches = [(tuple(t.double() if t.is_floating_point() else t for t in inputs),
                    y.double() if y.is_floating_point() else y) for inputs, y in batches]
    losses = train(args, module, batches)
    write_results(args.out, meta, module, losses)
    config = dict(vars(args), betas=list(args.betas), inputs=names,
                  labels_name=names[-1], output=meta["output"])
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    for i, v in enumerate(losses, 1):
        print(f"step {i} loss {v:.9g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
