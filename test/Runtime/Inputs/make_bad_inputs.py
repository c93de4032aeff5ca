#!/usr/bin/python3
"""Writes input files for a program whose input is f32 of shape [4]: good
ones in every .npy version, and .npy and .pb files that dist-run must refuse
before allocating or trusting them.

    /usr/bin/python3 make_bad_inputs.py OUT_DIR

Each refused .npy file that NumPy itself refuses is checked to be refused by
numpy.load here, so that the reader is no looser than NumPy.
"""
import os
import struct
import sys

import numpy as np
from onnx import TensorProto

DATA = np.array([1, 2, 3, 4], np.float32).tobytes()
DICT = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"


def npy(header, data=DATA, version=(1, 0), pad=True):
    """A .npy file with `header` as its dict text, padded like NumPy's."""
    text = header
    if pad:
        start = 10 if version[0] == 1 else 12
        text += " " * ((64 - (start + len(text) + 1) % 64) % 64) + "\n"
    raw = text.encode("latin1")
    length = struct.pack("<H" if version[0] == 1 else "<I", len(raw))
    return b"\x93NUMPY" + bytes(version) + length + raw + data


# name -> (bytes, does NumPy refuse it too)
BAD = {
    "version-1.1": (npy(DICT, version=(1, 1)), True),
    "version-4.0": (npy(DICT, version=(4, 0)), True),
    "header-too-long": (npy(DICT + " " * 10100, version=(2, 0)), True),
    "extra-key": (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}"), True),
    "missing-key": (npy("{'descr': '<f4', 'shape': (4,)}"), True),
    "duplicate-key": (npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,)}"), False),
    "fortran-string": (npy("{'descr': '<f4', 'fortran_order': 'False', 'shape': (4,)}"), True),
    "fortran-true": (npy("{'descr': '<f4', 'fortran_order': True, 'shape': (4,)}"), False),
    "shape-negative": (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,)}"), False),
    "shape-not-tuple": (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4)}"), True),
    "shape-float": (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4.0,)}"), True),
    "descr-big-endian": (npy("{'descr': '>f4', 'fortran_order': False, 'shape': (4,)}"), False),
    "not-a-dict": (npy("[('descr', '<f4')]"), True),
    "text-after-dict": (npy(DICT + " 1"), True),
    "data-short": (npy(DICT, data=DATA[:12]), True),
    "data-long": (npy(DICT, data=DATA + DATA), False),
    "header-truncated": (npy(DICT)[:40], True),
    "shape-overflow": (npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 8)}"), True),
}


def pb(dims, raw=b""):
    t = TensorProto(name="x", data_type=TensorProto.FLOAT, dims=dims)
    if raw:
        t.raw_data = raw
    return t.SerializeToString()


def main(out):
    os.makedirs(out, exist_ok=True)
    p = lambda name: os.path.join(out, name)
    for name, (content, numpy_refuses) in BAD.items():
        with open(p(name + ".npy"), "wb") as f:
            f.write(content)
        if numpy_refuses:
            try:
                np.load(p(name + ".npy"))
            except Exception:
                pass
            else:
                sys.exit("NumPy accepts %s.npy, which is meant as refused" % name)
    # Accepted: NumPy's own files and versions 2.0 and 3.0.
    np.save(p("good.npy"), np.array([1, 2, 3, 4], np.float32))
    for v in ((2, 0), (3, 0)):
        with open(p("good-v%d.npy" % v[0]), "wb") as f:
            f.write(npy(DICT, version=v))
    with open(p("good-quotes.npy"), "wb") as f:
        f.write(npy('{"descr": "<f4", "fortran_order": False, "shape": (4,)}'))
    # .pb inputs whose dims would make the reader allocate without limit.
    for name, dims in (("dims-negative", [-1]), ("dims-huge", [2 ** 40]),
                       ("dims-overflow", [2 ** 62, 2 ** 62])):
        with open(p(name + ".pb"), "wb") as f:
            f.write(pb(dims))
    with open(p("good.pb"), "wb") as f:
        f.write(pb([4], DATA))
    # Larger than a small --max-memory: never read.
    with open(p("large.pb"), "wb") as f:
        f.write(pb([4], DATA * 8))
    os.mkfifo(p("fifo.npy"))


if __name__ == "__main__":
    main(sys.argv[1])
