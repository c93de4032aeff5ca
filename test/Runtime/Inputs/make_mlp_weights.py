#!/usr/bin/python3
"""Writes mlp.bin (the weights of examples/mlp-tp2.mlir, at the offsets it
names) and an input x.npy into OUT_DIR; prints nothing.

    /usr/bin/python3 make_mlp_weights.py OUT_DIR
"""
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(7)
fc1_w = (rng.standard_normal((256, 1024)) * 0.05).astype(np.float32)
fc1_b = (rng.standard_normal(1024) * 0.05).astype(np.float32)
fc2_w = (rng.standard_normal((1024, 256)) * 0.05).astype(np.float32)
fc2_b = (rng.standard_normal(256) * 0.05).astype(np.float32)
blob = fc1_w.tobytes() + fc1_b.tobytes() + fc2_w.tobytes() + fc2_b.tobytes()
assert len(fc1_w.tobytes()) == 1048576 and len(blob) == 2101248 + 1024
with open(os.path.join(out, "mlp.bin"), "wb") as f:
    f.write(blob)
np.save(os.path.join(out, "x.npy"), rng.standard_normal((16, 256)).astype(np.float32))
