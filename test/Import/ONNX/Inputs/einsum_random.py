#!/usr/bin/python3
"""Random Einsum equations that ONNX accepts, run by dist-run, against
numpy.einsum.

    /usr/bin/python3 einsum_random.py OUT_DIR DIST_OPT DIST_RUN [COUNT]

Draws COUNT (default 40) equations of 1 to 3 operands over the indices
a-e, X, Y (sizes 1 to 3, so that size-1 dims broadcast), some with '...'
(operands with fewer or size-1 ellipsis dims), some with an index repeated
in a term (a diagonal), some implicit (no '->'), with float32 operands. An equation that dist-opt refuses on its own (ONNX
1.12's shape inference takes no ellipses of different ranks, nor upper-case
indices without '->') is drawn again; a crash is reported. The accepted
ones form one model, compiled and run once, and every output is compared
with numpy (rtol 1e-4, atol 1e-5). Prints `CRASH`/`MISMATCH` lines and
`N equations, M mismatched, K refused`; exits 1 on any mismatch or crash.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

INDICES = "abcdeXY"


def model(nodes, inputs, outputs):
    graph = helper.make_graph(nodes, "einsum", inputs, outputs)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


def draw(rng, sizes):
    """(equation, operands) of one random einsum numpy evaluates."""
    while True:
        # Now and then an index repeats within a term (a diagonal).
        terms = ["".join(rng.choice(list(INDICES), int(rng.integers(0, 4)),
                                    replace=bool(rng.random() < 0.2)))
                 for _ in range(int(rng.integers(1, 4)))]
        ellipsis = rng.random() < 0.3
        ell = [int(rng.integers(1, 3)) for _ in range(int(rng.integers(0, 3)))]
        written, arrays = [], []
        for t in terms:
            shape = [sizes[c] for c in t]
            if ellipsis:
                at = int(rng.integers(0, len(t) + 1))
                k = int(rng.integers(0, len(ell) + 1))
                dims = [1 if rng.random() < 0.3 else d for d in ell[len(ell) - k:]]
                written.append(t[:at] + "..." + t[at:])
                shape = shape[:at] + dims + shape[at:]
            else:
                written.append(t)
            arrays.append(rng.standard_normal(shape).astype(np.float32))
        equation = ",".join(written)
        if rng.random() < 0.7:
            used = sorted(set("".join(terms)))
            out = "".join(rng.permutation([c for c in used if rng.random() < 0.6]))
            if ellipsis:
                at = int(rng.integers(0, len(out) + 1))
                out = out[:at] + "..." + out[at:]
            equation += "->" + out
        try:
            want = np.asarray(np.einsum(equation, *arrays), np.float32)
        except ValueError:
            continue
        return equation, arrays, want


def main(out, dist_opt, dist_run, count=40):
    count = int(count)
    rng = np.random.default_rng(12)
    sizes = {c: int(rng.integers(1, 4)) for c in INDICES}
    nodes, inputs, outputs, feed, expected = [], [], [], [], {}
    refused = crashed = 0
    while len(nodes) < count:
        equation, arrays, want = draw(rng, sizes)
        name = f"e{len(nodes)}"
        ins = [helper.make_tensor_value_info(f"{name}_{i}", TensorProto.FLOAT, a.shape)
               for i, a in enumerate(arrays)]
        node = helper.make_node("Einsum", [i.name for i in ins], [f"{name}_y"],
                                equation=equation, name=name)
        outs = [helper.make_tensor_value_info(f"{name}_y", TensorProto.FLOAT, want.shape)]
        probe = os.path.join(out, "probe.onnx")
        onnx.save(model([node], ins, outs), probe)
        proc = subprocess.run([dist_opt, probe, "-o", os.devnull], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            if proc.returncode != 1 or "Stack dump" in proc.stderr:
                print(f"CRASH '{equation}': exit {proc.returncode}: {proc.stderr[-300:]}")
                crashed += 1
            refused += 1
            continue
        nodes.append(node)
        inputs += ins
        outputs += outs
        for i, a in zip(ins, arrays):
            np.save(os.path.join(out, f"{i.name}.npy"), a)
            feed.append(f"--input={i.name}={os.path.join(out, i.name + '.npy')}")
        expected[f"{name}_y"] = (equation, want)
    path = os.path.join(out, "random.onnx")
    onnx.save(model(nodes, inputs, outputs), path)
    artifact = os.path.join(out, "random.dist")
    for cmd in ([dist_opt, path, "--devices=1", "-o", artifact],
                [dist_run, artifact, *feed, "--output-dir", os.path.join(out, "random.out")]):
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"FAILED {cmd[0]}: {proc.stderr.strip()[-500:]}")
            return 1
    mismatched = 0
    for name, (equation, want) in expected.items():
        got = np.load(os.path.join(out, "random.out", f"{name}.npy"))
        if got.shape != want.shape or not np.allclose(got, want, rtol=1e-4, atol=1e-5):
            mismatched += 1
            print(f"MISMATCH '{equation}': got {list(got.shape)}, expected {list(want.shape)}")
    print(f"{len(expected)} equations, {mismatched} mismatched, {refused} refused")
    return 1 if mismatched or crashed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
