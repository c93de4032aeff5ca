#!/usr/bin/python3
"""Compare a dist-run training run with the PyTorch reference (issue 12).

Against the reference of models/training/reference.py:

    compare_training.py --reference REF --loss-log losses.csv [--saved-weights DIR]
                        [--rtol 1e-4] [--weight-tol 1e-4]

  losses:  every step of REF/losses.csv must be in the log, no other step, and
           |loss - ref| <= rtol * |ref| per step;
  weights: every tensor of REF/weights.npz must be an initializer of
           DIR/model.onnx (external data read from DIR) of the same shape, with
           max |w - ref| <= weight-tol * max(1, max |ref|).

Two dist-run logs (1 rank against N ranks):

    compare_training.py --ranks one.csv many.csv [--rtol 1e-5]

Prints one line per comparison with the worst difference, and exits 0 when
everything matches, 1 on a mismatch, 2 on unreadable or malformed input.
Loss logs are CSV with the header `step,loss` and 1-based steps.
"""

import argparse
import csv
import math
import os
import sys


class InputError(Exception):
    """A file that cannot be read or does not have the expected form."""


def read_losses(path):
    """{step: loss} of a `step,loss` CSV file."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise InputError(f"cannot read loss log {path}: {e.strerror}") from e
    if not rows or [c.strip() for c in rows[0]] != ["step", "loss"]:
        raise InputError(f"{path}: expected the header 'step,loss'")
    losses = {}
    for line, row in enumerate(rows[1:], 2):
        if not row:
            continue
        try:
            step, loss = int(row[0]), float(row[1])
        except (ValueError, IndexError) as e:
            raise InputError(f"{path}:{line}: expected 'step,loss', got '{','.join(row)}'") from e
        if step in losses:
            raise InputError(f"{path}:{line}: step {step} appears twice")
        losses[step] = loss
    if not losses:
        raise InputError(f"{path}: no steps")
    return losses


def compare_losses(ref, got, rtol, what):
    """True when the logs have the same steps and every loss is within rtol."""
    ok = True
    if set(ref) != set(got):
        missing = sorted(set(ref) - set(got))
        extra = sorted(set(got) - set(ref))
        print(f"{what}: MISMATCH steps differ: missing {missing[:10]}, unexpected {extra[:10]}")
        ok = False
    worst_step, worst_rel = None, -1.0
    for step in sorted(set(ref) & set(got)):
        r, g = ref[step], got[step]
        rel = abs(g - r) / abs(r) if r != 0 else (0.0 if g == 0 else math.inf)
        if math.isnan(g) or math.isnan(r):
            rel = math.inf
        if rel > worst_rel:
            worst_step, worst_rel = step, rel
    if worst_step is None:
        return False
    passed = worst_rel <= rtol
    print(f"{what}: {'OK' if passed else 'MISMATCH'} {len(ref)} steps, worst step {worst_step}: "
          f"{got[worst_step]:.9g} vs {ref[worst_step]:.9g}, relative difference "
          f"{worst_rel:.3g} (rtol {rtol:g})")
    return ok and passed


def read_saved_initializers(directory):
    """{name: array} of DIR/model.onnx's initializers, external data included."""
    import numpy as np  # noqa: F401  (the weight check needs numpy and onnx)
    import onnx
    import onnx.numpy_helper
    path = os.path.join(directory, "model.onnx")
    try:
        model = onnx.load(path, load_external_data=True)
    except Exception as e:  # onnx raises many kinds: missing file, bad proto, bad data
        raise InputError(f"cannot load {path}: {e}") from e
    return {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}


def compare_weights(ref_path, directory, tol):
    """True when every reference tensor is in the saved model and close enough."""
    import numpy as np
    try:
        ref = dict(np.load(ref_path))
    except (OSError, ValueError) as e:
        raise InputError(f"cannot read reference weights {ref_path}: {e}") from e
    saved = read_saved_initializers(directory)
    ok, worst = True, None  # worst: (ratio of difference to allowed, name, diff, allowed)
    for name, r in sorted(ref.items()):
        if name not in saved:
            print(f"weights: MISMATCH '{name}' is not an initializer of {directory}/model.onnx")
            ok = False
            continue
        s = saved[name]
        if s.shape != r.shape:
            print(f"weights: MISMATCH '{name}' has shape {list(s.shape)}, the reference "
                  f"{list(r.shape)}")
            ok = False
            continue
        diff = float(np.max(np.abs(s.astype(np.float64) - r.astype(np.float64)), initial=0.0))
        if math.isnan(diff) or np.isnan(s).any():
            diff = math.inf
        allowed = tol * max(1.0, float(np.max(np.abs(r), initial=0.0)))
        if worst is None or diff / allowed > worst[0]:
            worst = (diff / allowed, name, diff, allowed)
    if worst is not None:
        passed = worst[0] <= 1.0
        ok = ok and passed
        print(f"weights: {'OK' if passed else 'MISMATCH'} {len(ref)} tensors, worst '{worst[1]}': "
              f"max abs difference {worst[2]:.3g}, allowed {worst[3]:.3g}")
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", help="reference directory (losses.csv, weights.npz)")
    ap.add_argument("--loss-log", help="dist-run's --loss-log file")
    ap.add_argument("--saved-weights", help="dist-run's --save-weights directory")
    ap.add_argument("--ranks", nargs=2, metavar=("ONE", "MANY"), help="two dist-run loss logs")
    ap.add_argument("--rtol", type=float, help="per-step relative tolerance of the losses "
                    "(default 1e-4 against the reference, 1e-5 between ranks)")
    ap.add_argument("--weight-tol", type=float, default=1e-4)
    args = ap.parse_args(argv)
    if bool(args.ranks) == bool(args.reference):
        ap.error("give either --reference REF --loss-log FILE, or --ranks ONE MANY")
    if args.reference and not args.loss_log:
        ap.error("--reference needs --loss-log")
    try:
        if args.ranks:
            ok = compare_losses(read_losses(args.ranks[0]), read_losses(args.ranks[1]),
                                args.rtol or 1e-5, "losses (1 rank vs N ranks)")
            return 0 if ok else 1
        ok = compare_losses(read_losses(os.path.join(args.reference, "losses.csv")),
                            read_losses(args.loss_log), args.rtol or 1e-4, "losses")
        if args.saved_weights:
            ok = compare_weights(os.path.join(args.reference, "weights.npz"),
                                 args.saved_weights, args.weight_tol) and ok
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
