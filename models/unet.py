#!/usr/bin/python3
"""A small U-Net-style CNN with long skip connections, for pipeline tests.

    /usr/bin/python3 models/unet.py --out DIR [--batch 2]

Writes DIR/model.onnx (opset 17, static shapes, eval()), DIR/x.npy (the
input, N x 3 x 16 x 16) and DIR/y.npy (PyTorch's output for it). The
encoder's features at full and half resolution are concatenated into the
decoder at the same resolution: the full-resolution ones are read by the
last convolutions, so a pipeline cut anywhere sends them past every stage
in between. Upsampling is nearest, written as reshape and expand (ops the
importer converts).
"""
import argparse
import os
import sys

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # pragma: no cover
    sys.exit(f"error: {e}. Run with /usr/bin/python3 (Debian's python3-torch).")


def upsample2(x):
    """Nearest 2x upsampling by reshape and expand."""
    n, c, h, w = x.shape
    return x.reshape(n, c, h, 1, w, 1).expand(n, c, h, 2, w, 2).reshape(n, c, 2 * h, 2 * w)


class UNet(nn.Module):
    def __init__(self, width=8):
        super().__init__()
        w = width
        self.enc1 = nn.Conv2d(3, w, 3, padding=1)
        self.enc2 = nn.Conv2d(w, 2 * w, 3, padding=1)
        self.mid = nn.Conv2d(2 * w, 2 * w, 3, padding=1)
        self.dec2 = nn.Conv2d(4 * w, 2 * w, 3, padding=1)
        self.dec1 = nn.Conv2d(3 * w, w, 3, padding=1)
        self.head = nn.Conv2d(w, 2, 1)
        self.pool = nn.MaxPool2d(2)
        self.relu = nn.ReLU()

    def forward(self, x):
        e1 = self.relu(self.enc1(x))                       # N x w x 16 x 16
        e2 = self.relu(self.enc2(self.pool(e1)))           # N x 2w x 8 x 8
        m = self.relu(self.mid(self.pool(e2)))             # N x 2w x 4 x 4
        d2 = self.relu(self.dec2(torch.cat([upsample2(m), e2], dim=1)))
        d1 = self.relu(self.dec1(torch.cat([upsample2(d2), e1], dim=1)))
        return self.head(d1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--batch", type=int, default=2)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(11)
    model = UNet().eval()
    x = torch.randn(args.batch, 3, 16, 16, generator=torch.Generator().manual_seed(12))
    with torch.no_grad():
        y = model(x)
    torch.onnx.export(model, (x,), os.path.join(args.out, "model.onnx"),
                      input_names=["x"], output_names=["y"], opset_version=17,
                      do_constant_folding=False)
    np.save(os.path.join(args.out, "x.npy"), x.numpy())
    np.save(os.path.join(args.out, "y.npy"), y.numpy())


if __name__ == "__main__":
    main()
