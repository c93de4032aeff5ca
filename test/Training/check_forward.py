#!/usr/bin/python3
"""The forward pass of every training model, imported by dist-opt and run by
dist-run on one rank, equals PyTorch's (the function that training
differentiates is the model's).

    check_forward.py --dist-opt PATH --dist-run PATH --out DIR [--models gpt,bert,...]

Per model: export (models/training/export.py), PyTorch's logits on batch 0 of
data seed 0, `dist-opt model.onnx --devices 1 -o m.dist`, `dist-run m.dist
--input ... --output-dir`, and a comparison (rtol 1e-4, atol 1e-5). Prints
one line per model; the last line is `N passed, M failed`; exit 1 on a failure.
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "models", "training"))

import export  # noqa: E402
import models  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402


def check(name, tools, out):
    d = os.path.join(out, name)
    export.export(name, d)
    spec = models.TRAINING_MODELS[name]
    module = spec.build()
    batch = spec.make_batch(torch.Generator().manual_seed(0))
    with torch.no_grad():
        expected = module(*batch).numpy()
    feed = []
    for i, t in zip(spec.inputs, batch):
        np.save(os.path.join(d, f"{i.name}.npy"), t.numpy())
        feed += ["--input", f"{i.name}={os.path.join(d, i.name + '.npy')}"]
    artifact = os.path.join(d, "m.dist")
    for cmd in ([tools.dist_opt, os.path.join(d, "model.onnx"), "--devices", "1", "-o",
                 artifact],
                [tools.dist_run, artifact, "--output-dir",
                 os.path.join(d, "out")] + feed):
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            return f"FAIL {name}: {os.path.basename(cmd[0])}: {p.stderr.strip()}"
    got = np.load(os.path.join(d, "out", f"{spec.output}.npy"))
    if got.shape != expected.shape:
        return f"FAIL {name}: shape {got.shape}, PyTorch {expected.shape}"
    err = float(np.max(np.abs(got - expected)))
    ok = np.allclose(got, expected, rtol=1e-4, atol=1e-5)
    return f"{'ok' if ok else 'FAIL'} {name}: logits {list(got.shape)} max abs difference {err:.2e}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dist-opt", required=True)
    ap.add_argument("--dist-run", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--models", default=",".join(models.TRAINING_MODELS))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    failed = 0
    names = args.models.split(",")
    for name in names:
        line = check(name, args, args.out)
        failed += not line.startswith("ok")
        print(line, flush=True)
    print(f"{len(names) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
