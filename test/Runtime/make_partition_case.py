#!/usr/bin/python3
"""Prepares a hand-annotated `dist-partition` program for a run on 1 and on N
ranks.

    /usr/bin/python3 make_partition_case.py PROGRAM.mlir OUT_DIR

Writes into OUT_DIR:
  * whole.mlir: the program without its shard.grid and without the
    `dist.factor_axes` attributes, the 1-device program to compare with;
  * the bytes of every `dist.weight` (random normal values times 0.1, seeded
    by the weight's name), at the file, offset and length its
    `#dist.data<storage = external, ...>` names;
  * NAME.npy for every function argument `{dist.name = "NAME"}` (random
    normal, or random indices in [0, 8) for integer arguments).
Supports float32, int32 and int64 tensors.
"""
import os
import re
import sys
import zlib

import numpy as np

DTYPES = {"f32": np.float32, "i32": np.int32, "i64": np.int64}
TENSOR = r"tensor<((?:\d+x)*)(\w+)>"


def parse_tensor(dims, elem):
    return tuple(int(d) for d in dims.split("x") if d), DTYPES[elem]


def rng_for(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def main():
    src, out = sys.argv[1], sys.argv[2]
    text = open(src).read()
    os.makedirs(out, exist_ok=True)

    whole = re.sub(r"^\s*shard\.grid .*$\n", "", text, flags=re.M)
    whole = re.sub(r"dist\.factor_axes = \{[^}]*\},?\s*", "", whole)
    whole = re.sub(r",\s*\}", "}", whole)
    whole = re.sub(r"\s*\{\s*\}", "", whole)
    with open(os.path.join(out, "whole.mlir"), "w") as f:
        f.write(whole)

    weight = re.compile(r'dist\.weight "([^"]+)"\s*:\s*' + TENSOR +
                        r'\s*at\s*#dist\.data<storage = external, path = "([^"]+)", '
                        r'offset = (\d+), length = (\d+)>')
    blobs = {}
    for m in weight.finditer(text):
        name, dims, elem, path, offset, length = m.groups()
        shape, dtype = parse_tensor(dims, elem)
        data = (rng_for(name).standard_normal(shape) * 0.1).astype(dtype)
        assert data.nbytes == int(length), f"{name}: {data.nbytes} bytes, {length} recorded"
        blob = blobs.setdefault(path, bytearray())
        end = int(offset) + int(length)
        if len(blob) < end:
            blob.extend(b"\0" * (end - len(blob)))
        blob[int(offset):end] = data.tobytes()
    for path, blob in blobs.items():
        with open(os.path.join(out, path), "wb") as f:
            f.write(bytes(blob))

    arg = re.compile(r"%\w+\s*:\s*" + TENSOR + r'\s*\{dist\.name = "([^"]+)"\}')
    for m in arg.finditer(text):
        dims, elem, name = m.groups()
        shape, dtype = parse_tensor(dims, elem)
        rng = rng_for(name)
        if np.issubdtype(dtype, np.integer):
            data = rng.integers(0, 8, size=shape).astype(dtype)
        else:
            data = rng.standard_normal(shape).astype(dtype)
        np.save(os.path.join(out, name + ".npy"), data)


if __name__ == "__main__":
    main()
