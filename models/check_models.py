#!/usr/bin/python3
"""Self-check of the test models: export, validate, compare, build shape-only GPTs.

    /usr/bin/python3 models/check_models.py [--out DIR] [--models a,b] [--opsets 13,14,17]

Exports every model of zoo.py (into DIR, or into a temporary folder that is
removed afterwards) and checks, per model and opset:

  * all files listed in meta.json exist; onnx.checker + strict shape inference
    pass; the declared ONNX shapes agree with the concrete ones (batch dynamic);
  * the reference outputs are finite and have the recorded shapes;
  * the expected kinds of ops are there (see EXPECTED_OPS), with exact vs. tanh
    GELU told apart (Erf vs. Tanh), and LayerNormalization nodes at opset 17
    (one per nn.LayerNorm) but decomposed (ReduceMean, no LayerNormalization)
    below 17; how ResNet's BatchNorm and GPT-2's tied LM head come out;

Numerical agreement of the exported graphs with PyTorch is checked by the
runtime's tests against ONNX Runtime, an oracle written outside this project.

and for shape_only_gpt.py: a small config builds through the CLI and passes the
checker, its parameter count equals the closed formula exactly, the weights
file is not created; the 175B config builds quickly into a small file.

Prints one line per check and finally "N passed, M failed"; exit 1 if any failed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


import export  # noqa: E402  (exits with a clear message without Debian's packages)
import numpy as np  # noqa: E402
import onnx  # noqa: E402
import torch  # noqa: E402
import shape_only_gpt  # noqa: E402
import zoo  # noqa: E402

# Ops that must appear in every export of a model (all supported opsets).
EXPECTED_OPS = {
    "mlp": {"Gemm", "Erf"},
    "gpt2": {"Gather", "MatMul", "Softmax", "Where", "Transpose", "Reshape", "Tanh"},
    "bert": {"Gather", "MatMul", "Softmax", "Where", "Transpose", "Reshape", "Erf", "Tanh"},
    "vit": {"Conv", "Concat", "MatMul", "Softmax", "Transpose", "Reshape", "Erf"},
    "resnet": {"Conv", "Relu", "MaxPool", "Add", "GlobalAveragePool", "Flatten", "Gemm"},
    "mixer": {"Conv", "Transpose", "MatMul", "Erf", "ReduceMean"},
    # T5: RMS norm (Pow, ReduceMean, Sqrt), bucketed relative positions (Log,
    # Where), ReLU feed-forward, no LayerNormalization at any opset.
    "t5": {"Gather", "MatMul", "Softmax", "Pow", "ReduceMean", "Sqrt", "Log", "Where", "Relu"},
}
# GELU flavour: exact GELU exports as Erf; tanh approximation as Tanh (no Erf).
NO_OPS = {"gpt2": {"Erf"}, "t5": {"LayerNormalization"}}
TRANSFORMERS = ("gpt2", "bert", "vit", "mixer")  # models with nn.LayerNorm


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def record(self, name, ok, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"{'PASS' if ok else 'FAIL'} {name}" + (f": {detail}" if detail else ""), flush=True)

    def run(self, name, fn):
        """fn() returns a detail string (pass) or raises AssertionError/any error (fail)."""
        try:
            detail = fn()
        except AssertionError as e:
            self.record(name, False, str(e))
            return False
        except Exception as e:
            self.record(name, False, f"{type(e).__name__}: {e}")
            if os.environ.get("CHECK_MODELS_TRACEBACK"):
                traceback.print_exc()
            return False
        self.record(name, True, detail or "")
        return True


# --------------------------------------------------------------------------- #
# Exported models
# --------------------------------------------------------------------------- #

def check_export(c: Checks, out: str, name: str, opset: int, torch_model):
    folder = os.path.join(out, name, f"opset{opset}")
    tag = f"{name} opset{opset}"
    meta_path = os.path.join(folder, "meta.json")
    state = {}

    def files():
        meta = json.load(open(meta_path))
        state["meta"] = meta
        missing = [f for f in [meta["file"]] + [x["file"] for x in meta["inputs"] + meta["outputs"]]
                   if not os.path.isfile(os.path.join(folder, f))]
        assert not missing, f"missing files: {missing}"
        leftovers = [f for f in os.listdir(folder) if f.endswith(".tmp")]
        assert not leftovers, f"temporary files left: {leftovers}"
        return f"{len(meta['inputs'])} input(s), {len(meta['outputs'])} output(s)"
    if not c.run(f"{tag} files", files):
        return
    meta = state["meta"]
    path = os.path.join(folder, "model.onnx")

    def checker():
        onnx.checker.check_model(path)
        m = onnx.shape_inference.infer_shapes(onnx.load(path), check_type=True, strict_mode=True)
        state["model"] = m
        for vi, rec in zip(list(m.graph.input) + list(m.graph.output), meta["inputs"] + meta["outputs"]):
            dims = export.onnx_dims(vi)
            assert vi.name == rec["name"], f"{vi.name} != {rec['name']}"
            assert len(dims) == len(rec["shape"]), f"{vi.name}: rank {dims} vs {rec['shape']}"
            for d, s in zip(dims, rec["shape"]):
                assert d == s or isinstance(d, str), f"{vi.name}: ONNX shape {dims} vs {rec['shape']}"
        batch = [export.onnx_dims(vi)[0] for vi in m.graph.input]
        assert all(b == "batch" for b in batch), f"input batch dims {batch}, expected 'batch'"
        return f"{len(m.graph.node)} nodes, inputs {[export.onnx_dims(v) for v in m.graph.input]}"
    if not c.run(f"{tag} checker + strict shape inference", checker):
        return
    model = state["model"]
    ops = {n.op_type for n in model.graph.node}
    count = lambda t: sum(n.op_type == t for n in model.graph.node)  # noqa: E731

    def outputs():
        for rec in meta["outputs"]:
            a = np.load(os.path.join(folder, rec["file"]))
            assert list(a.shape) == rec["shape"], f"{rec['file']}: shape {a.shape} vs {rec['shape']}"
            assert str(a.dtype) == rec["dtype"], f"{rec['file']}: dtype {a.dtype}"
            assert np.isfinite(a).all(), f"{rec['file']} has non-finite values"
            assert np.abs(a).max() > 0, f"{rec['file']} is all zeros"
        return ", ".join(f"{r['name']} {r['shape']} {r['dtype']}" for r in meta["outputs"])
    c.run(f"{tag} reference outputs finite", outputs)

    def kinds():
        missing = EXPECTED_OPS[name] - ops
        assert not missing, f"missing op types {sorted(missing)} in {sorted(ops)}"
        bad = NO_OPS.get(name, set()) & ops
        assert not bad, f"unexpected op types {sorted(bad)}"
        return f"has {sorted(EXPECTED_OPS[name])}" + (f", no {sorted(NO_OPS[name])}" if name in NO_OPS else "")
    c.run(f"{tag} expected op kinds", kinds)

    if name in TRANSFORMERS:
        n_ln = sum(isinstance(m, torch.nn.LayerNorm) for m in torch_model.modules())

        def layernorm():
            if opset >= 17:
                assert count("LayerNormalization") == n_ln, \
                    f"{count('LayerNormalization')} LayerNormalization nodes, {n_ln} nn.LayerNorm"
                return f"{n_ln} LayerNormalization nodes (one per nn.LayerNorm)"
            assert "LayerNormalization" not in ops, "LayerNormalization below opset 17"
            assert "ReduceMean" in ops and "Sqrt" in ops, "no ReduceMean/Sqrt decomposition"
            return "decomposed (ReduceMean/Sub/Pow/Sqrt/Div), no LayerNormalization"
        c.run(f"{tag} LayerNormalization", layernorm)

    if name == "resnet":
        def batchnorm():
            n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in torch_model.modules())
            n_conv = sum(isinstance(m, torch.nn.Conv2d) for m in torch_model.modules())
            assert count("Conv") == n_conv, f"{count('Conv')} Conv nodes, {n_conv} nn.Conv2d"
            if "BatchNormalization" in ops:
                return f"{count('BatchNormalization')} BatchNormalization nodes kept"
            assert all(len(n.input) == 3 for n in model.graph.node if n.op_type == "Conv"), \
                "BN folded but a Conv has no bias"
            return (f"all {n_bn} BatchNorm2d folded into the {n_conv} Conv nodes "
                    f"(each Conv has a bias), no BatchNormalization")
        c.run(f"{tag} BatchNorm (eval)", batchnorm)

    if name == "gpt2":
        def tied():
            inits = {t.name: t for t in model.graph.initializer}
            assert "wte.weight" in inits, "no initializer wte.weight"
            wte = onnx.numpy_helper.to_array(inits["wte.weight"])
            head = [n for n in model.graph.node if "logits" in n.output][0]
            assert head.op_type == "MatMul", f"LM head is {head.op_type}"
            w = head.input[1]
            if w in inits:
                wt = onnx.numpy_helper.to_array(inits[w])
                assert np.array_equal(wt, wte.T), f"LM-head weight {w} != wte.weight^T"
                return (f"tie NOT kept in ONNX: LM head uses initializer {w} {list(wt.shape)}, "
                        f"a transposed copy of wte.weight (equal values)")
            prod = [n for n in model.graph.node if w in n.output][0]
            assert prod.op_type == "Transpose" and prod.input[0] == "wte.weight", \
                f"LM-head weight from {prod.op_type}({list(prod.input)})"
            return "tie kept: LM head uses Transpose(wte.weight)"
        c.run(f"{tag} tied LM head", tied)

    if "Dropout" in ops:
        print(f"info {tag}: Dropout nodes present: {count('Dropout')}")


# --------------------------------------------------------------------------- #
# Shape-only GPT
# --------------------------------------------------------------------------- #

def gpt_params(L, H, S, V, F):
    """Parameter count by formula, written independently of shape_only_gpt.py."""
    per_layer = 4 * H * H + 2 * H * F + F + 9 * H   # qkvo W+b (4H^2+4H), fc, proj, 2 LN (4H)
    return V * H + S * H + L * per_layer + 2 * H    # wte, wpe, layers, final LN


def check_shape_only(c: Checks, out: str):
    folder = os.path.join(out, "shape_only_gpt")
    os.makedirs(folder, exist_ok=True)
    cfg = dict(layers=2, hidden=64, heads=4, seq=16, vocab=100, batch=2)

    for dtype in ("float32", "float16"):
        path = os.path.join(folder, f"small_{dtype}.onnx")
        data = os.path.join(folder, f"small_{dtype}.weights.bin")
        st = {}

        def cli():
            args = [sys.executable, os.path.join(HERE, "shape_only_gpt.py"), "--out", path,
                    "--dtype", dtype] + [x for k, v in cfg.items() for x in (f"--{k}", str(v))]
            r = subprocess.run(args, capture_output=True, text=True)
            assert r.returncode == 0, f"exit {r.returncode}: {r.stderr.strip()[-500:]}"
            st["stdout"] = r.stdout
            return r.stdout.splitlines()[0]
        if not c.run(f"shape_only_gpt {dtype} small config CLI", cli):
            continue

        def checked():
            shape_only_gpt.check_model_file(path)
            assert not os.path.exists(data), f"{data} was created"
            m = onnx.load(path, load_external_data=False)
            inf = onnx.shape_inference.infer_shapes(m, check_type=True, strict_mode=True)
            dims = export.onnx_dims(inf.graph.output[0])
            assert dims == [cfg["batch"], cfg["seq"], cfg["vocab"]], f"logits shape {dims}"
            bad = [t.name for t in m.graph.initializer if t.data_location != onnx.TensorProto.EXTERNAL]
            assert not bad, f"non-external initializers {bad[:5]}"
            st["model"] = m
            return (f"checker passes, weights file absent, all {len(m.graph.initializer)} "
                    f"initializers external, logits {dims}")
        if not c.run(f"shape_only_gpt {dtype} small config checked", checked):
            continue
        m = st["model"]

        def params():
            want = gpt_params(cfg["layers"], cfg["hidden"], cfg["seq"], cfg["vocab"], 4 * cfg["hidden"])
            got = sum(int(np.prod(t.dims)) for t in m.graph.initializer)
            printed = int(st["stdout"].split()[1])
            meta = int({e.key: e.value for e in m.metadata_props}["parameters"])
            assert got == want == printed == meta, f"initializers {got}, printed {printed}, " \
                                                   f"metadata {meta}, formula {want}"
            nbytes = shape_only_gpt.check_external_layout(m)
            return f"{got} == formula {want}; data layout {nbytes} bytes, 64-byte aligned"
        c.run(f"shape_only_gpt {dtype} small config parameter count", params)


    def big():
        path = os.path.join(folder, "gpt175b.onnx")
        t0 = time.perf_counter()
        m = shape_only_gpt.build(96, 12288, 96, 2048, 50257, 1, 4, "float16", "gpt175b.weights.bin")
        size = shape_only_gpt.save_atomic(m, path)
        t_build = time.perf_counter() - t0
        shape_only_gpt.check_model_file(path)
        want = gpt_params(96, 12288, 2048, 50257, 4 * 12288)
        got = sum(int(np.prod(t.dims)) for t in m.graph.initializer)
        assert got == want, f"{got} != formula {want}"
        assert size < 5 << 20, f"file is {size} bytes"
        assert not os.path.exists(os.path.join(folder, "gpt175b.weights.bin"))
        return (f"{got} parameters == formula, built+saved in {t_build:.2f} s, "
                f"{size} bytes, checker passes")
    c.run("shape_only_gpt 175B config", big)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Self-check of the dist-opt test models.")
    p.add_argument("--out", help="export folder (default: a temporary folder, removed afterwards)")
    p.add_argument("--models", default=",".join(zoo.MODELS))
    p.add_argument("--opsets", default=",".join(map(str, export.DEFAULT_OPSETS)))
    args = p.parse_args(argv)
    # Reuse export.py's validation of the names and opsets, reporting errors
    # with this script's usage line (exit 2 on bad input).
    import contextlib
    import io
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            ex_args = export.parse_args(["--out", args.out or "unused", "--models", args.models,
                                         "--opsets", args.opsets])
    except SystemExit:
        p.error(err.getvalue().strip().splitlines()[-1].split("error: ", 1)[-1])

    c = Checks()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="distopt-models.") as tmp:
        out = args.out or tmp
        metas, errors = export.export_all(out, ex_args.model_list, ex_args.opset_list, quiet=True)
        c.record("export all", not errors,
                 f"{len(metas)} exports in {time.perf_counter() - t0:.1f} s"
                 + (f"; errors: {errors}" if errors else ""))
        for name in ex_args.model_list:
            torch_model = zoo.MODELS[name].build()
            for opset in ex_args.opset_list:
                if not os.path.isfile(os.path.join(out, name, f"opset{opset}", "meta.json")):
                    c.record(f"{name} opset{opset} exported", False, "no meta.json")
                    continue
                check_export(c, out, name, opset, torch_model)
        check_shape_only(c, out)
    print(f"total time {time.perf_counter() - t0:.1f} s")
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
