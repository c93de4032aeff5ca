#!/usr/bin/python3
"""Build a shape-only GPT decoder graph of any size with onnx.helper (no torch).

    /usr/bin/python3 models/shape_only_gpt.py --layers 96 --hidden 12288 --heads 96 \\
        --seq 2048 --vocab 50257 --batch 1 --out gpt175b.onnx [--ffn-mult 4] [--dtype float16]
        [--dynamic-batch]

The graph is a real GPT-2/3 decoder at opset 17:

    input_ids [batch, seq] (int64)  (with --dynamic-batch the batch dimension is
                                     the symbol "batch": import with --shape)
    x = Gather(wte, input_ids) + wpe                        wpe: [seq, hidden]
    per layer l (pre-LN):
      h = LayerNormalization(x, ln1.scale, ln1.bias)
      q/k/v = MatMul(h, W) + b -> Reshape [0,0,heads,hd] -> Transpose
      s = MatMul(q [b,h,s,d], k [b,h,d,s]) * 1/sqrt(hd)
      s = Where(causal [seq,seq] bool, s, lowest)          causal mask built in-graph
      a = MatMul(Softmax(s, -1), v) -> Transpose -> Reshape [0,0,hidden]
      x = x + MatMul(a, Wo) + bo
      h = LayerNormalization(x, ln2.scale, ln2.bias)
      f = MatMul(h, Wfc) + bfc;  f = f * 0.5 * (1 + Erf(f / sqrt 2))   exact GELU
      x = x + MatMul(f, Wproj) + bproj
    logits = MatMul(LayerNormalization(x), Transpose(wte))   tied LM head

Every initializer is a weight and is declared with data_location = EXTERNAL,
pointing at <out basename>.weights.bin with offsets laid out contiguously,
each tensor starting on a 64-byte boundary.  That data file is never written:
the model is for planning, shape inference and import tests that must not
touch the weights.  Small constants (shapes, scalars) are Constant nodes, not
initializers.  The causal mask is computed from Range/LessOrEqual so that no
[seq, seq] tensor is stored.

Checking: onnx 1.12's checker insists that the external data file exists (it
stat()s it, but does not read it); see check_model_file for how the written
file is checked without creating the data file.
"""

import argparse
import math
import os
import sys
import tempfile
import time

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:  # e.g. run with a python3 that is not Debian's
    raise SystemExit(f"error: {e}. This script needs Debian's python3-onnx and "
                     f"python3-numpy; run it with /usr/bin/python3.") from e

OPSET = 17
ALIGN = 64
DTYPES = {"float16": TensorProto.FLOAT16, "float32": TensorProto.FLOAT}
ITEMSIZE = {"float16": 2, "float32": 4}


def parameter_count(layers, hidden, heads, seq, vocab, ffn_mult=4) -> int:
    """Closed-form parameter count of the graph this module builds."""
    ffn = ffn_mult * hidden
    per_layer = (2 * 2 * hidden                 # ln1, ln2 scale + bias
                 + 4 * (hidden * hidden + hidden)  # q, k, v, o weights + biases
                 + hidden * ffn + ffn            # fc
                 + ffn * hidden + hidden)        # proj
    return vocab * hidden + seq * hidden + layers * per_layer + 2 * hidden  # wte, wpe, ln_f


class Builder:
    def __init__(self, dtype: str, data_file: str):
        self.dtype = dtype
        self.elem = DTYPES[dtype]
        self.itemsize = ITEMSIZE[dtype]
        self.data_file = data_file
        self.offset = 0
        self.nodes = []
        self.initializers = []
        self.num_params = 0
        self._n = 0

    def name(self, base):
        self._n += 1
        return f"{base}_{self._n}"

    def weight(self, name, dims):
        """An external initializer; advances the (virtual) data file offset."""
        numel = int(np.prod(dims, dtype=np.int64))
        length = numel * self.itemsize
        t = TensorProto()
        t.name = name
        t.data_type = self.elem
        t.dims.extend(dims)
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", self.data_file), ("offset", str(self.offset)),
                     ("length", str(length))):
            e = t.external_data.add()
            e.key, e.value = k, v
        self.initializers.append(t)
        self.offset += (length + ALIGN - 1) // ALIGN * ALIGN
        self.num_params += numel
        return name

    def const(self, base, value, np_dtype=None):
        """A Constant node holding a small tensor (shapes, scalars)."""
        arr = np.asarray(value, dtype=np_dtype or {"float16": np.float16,
                                                   "float32": np.float32}[self.dtype])
        out = self.name(base)
        self.nodes.append(helper.make_node(
            "Constant", [], [out], name=out + "_node",
            value=numpy_helper.from_array(arr, out + "_value")))
        return out

    def op(self, op_type, inputs, base=None, **attrs):
        out = self.name(base or op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out + "_node", **attrs))
        return out


def build(layers, hidden, heads, seq, vocab, batch, ffn_mult=4, dtype="float16",
          data_file="model.weights.bin", dynamic_batch=False) -> onnx.ModelProto:
    if hidden % heads:
        raise ValueError(f"--hidden {hidden} is not divisible by --heads {heads}")
    for k, v in (("layers", layers), ("hidden", hidden), ("heads", heads), ("seq", seq),
                 ("vocab", vocab), ("batch", batch), ("ffn-mult", ffn_mult)):
        if v <= 0:
            raise ValueError(f"--{k} must be positive, got {v}")
    hd = hidden // heads
    ffn = ffn_mult * hidden
    b = Builder(dtype, data_file)

    wte = b.weight("wte", [vocab, hidden])
    wpe = b.weight("wpe", [seq, hidden])

    # Shared constants.
    shape_heads = b.const("shape_heads", [0, 0, heads, hd], np.int64)
    shape_merge = b.const("shape_merge", [0, 0, hidden], np.int64)
    scale = b.const("attn_scale", 1.0 / math.sqrt(hd))
    lowest = b.const("mask_value", np.finfo(np.float16 if dtype == "float16" else np.float32).min)
    sqrt2 = b.const("sqrt2", math.sqrt(2.0))
    one = b.const("one", 1.0)
    half = b.const("half", 0.5)

    # Causal mask [seq, seq]: allowed[i, j] = j <= i.
    pos = b.op("Range", [b.const("zero_i64", 0, np.int64), b.const("seq_i64", seq, np.int64),
                         b.const("one_i64", 1, np.int64)], "positions")
    rows = b.op("Unsqueeze", [pos, b.const("axes_1", [1], np.int64)], "rows")   # [seq, 1]
    cols = b.op("Unsqueeze", [pos, b.const("axes_0", [0], np.int64)], "cols")   # [1, seq]
    causal = b.op("LessOrEqual", [cols, rows], "causal_mask")                   # [seq, seq]

    x = b.op("Gather", [wte, "input_ids"], "tok_emb", axis=0)
    x = b.op("Add", [x, wpe], "emb")

    def linear(inp, prefix, din, dout):
        w = b.weight(f"{prefix}.weight", [din, dout])
        bias = b.weight(f"{prefix}.bias", [dout])
        return b.op("Add", [b.op("MatMul", [inp, w], f"{prefix}.matmul"), bias], f"{prefix}.out")

    def layernorm(inp, prefix):
        s = b.weight(f"{prefix}.scale", [hidden])
        bb = b.weight(f"{prefix}.bias", [hidden])
        return b.op("LayerNormalization", [inp, s, bb], prefix, axis=-1, epsilon=1e-5)

    for l in range(layers):
        p = f"h{l}"
        h = layernorm(x, f"{p}.ln1")
        q = b.op("Transpose", [b.op("Reshape", [linear(h, f"{p}.attn.q", hidden, hidden), shape_heads])],
                 f"{p}.q_heads", perm=[0, 2, 1, 3])                          # [b, H, s, d]
        k = b.op("Transpose", [b.op("Reshape", [linear(h, f"{p}.attn.k", hidden, hidden), shape_heads])],
                 f"{p}.k_heads_t", perm=[0, 2, 3, 1])                        # [b, H, d, s]
        v = b.op("Transpose", [b.op("Reshape", [linear(h, f"{p}.attn.v", hidden, hidden), shape_heads])],
                 f"{p}.v_heads", perm=[0, 2, 1, 3])                          # [b, H, s, d]
        s = b.op("Mul", [b.op("MatMul", [q, k], f"{p}.scores"), scale], f"{p}.scaled")
        s = b.op("Where", [causal, s, lowest], f"{p}.masked")
        a = b.op("Softmax", [s], f"{p}.probs", axis=-1)
        o = b.op("MatMul", [a, v], f"{p}.context")                         # [b, H, s, d]
        o = b.op("Reshape", [b.op("Transpose", [o], perm=[0, 2, 1, 3]), shape_merge], f"{p}.merged")
        x = b.op("Add", [x, linear(o, f"{p}.attn.o", hidden, hidden)], f"{p}.resid1")

        h = layernorm(x, f"{p}.ln2")
        f = linear(h, f"{p}.mlp.fc", hidden, ffn)
        g = b.op("Erf", [b.op("Div", [f, sqrt2])])
        g = b.op("Mul", [b.op("Mul", [f, b.op("Add", [g, one])]), half], f"{p}.gelu")
        x = b.op("Add", [x, linear(g, f"{p}.mlp.proj", ffn, hidden)], f"{p}.resid2")

    x = layernorm(x, "ln_f")
    wte_t = b.op("Transpose", [wte], "wte_transposed", perm=[1, 0])
    b.nodes.append(helper.make_node("MatMul", [x, wte_t], ["logits"], name="lm_head"))

    elem = DTYPES[dtype]
    batch_dim = "batch" if dynamic_batch else batch
    graph = helper.make_graph(
        b.nodes, "shape_only_gpt",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [batch_dim, seq])],
        [helper.make_tensor_value_info("logits", elem, [batch_dim, seq, vocab])],
        initializer=b.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="dist-opt models/shape_only_gpt.py")
    model.ir_version = 8  # the IR version of opset 17 (onnx 1.12)
    cfg = dict(layers=layers, hidden=hidden, heads=heads, seq=seq, vocab=vocab, batch=batch,
               ffn_mult=ffn_mult, dtype=dtype, parameters=b.num_params,
               weights_file=data_file, weights_bytes=b.offset)
    for k, v in cfg.items():
        e = model.metadata_props.add()
        e.key, e.value = k, str(v)
    expected = parameter_count(layers, hidden, heads, seq, vocab, ffn_mult)
    assert b.num_params == expected, (b.num_params, expected)
    return model


def check_external_layout(model: onnx.ModelProto) -> int:
    """Validate the external-data records; returns the total data size in bytes.

    Every initializer must be EXTERNAL with location/offset/length, the same
    location for all, length = numel * itemsize, offsets 64-byte aligned and
    the tensors laid out in order without overlap or gaps beyond alignment.
    """
    itemsize = {TensorProto.FLOAT16: 2, TensorProto.FLOAT: 4}
    end, location = 0, None
    for t in model.graph.initializer:
        if t.data_location != TensorProto.EXTERNAL:
            raise ValueError(f"initializer {t.name} is not external")
        if t.raw_data or t.float_data or t.int32_data:
            raise ValueError(f"initializer {t.name} carries inline data")
        e = {kv.key: kv.value for kv in t.external_data}
        if location is None:
            location = e.get("location")
        if e.get("location") != location or not location:
            raise ValueError(f"initializer {t.name}: location {e.get('location')!r} != {location!r}")
        off, length = int(e["offset"]), int(e["length"])
        numel = int(np.prod(list(t.dims), dtype=np.int64))
        if length != numel * itemsize[t.data_type]:
            raise ValueError(f"initializer {t.name}: length {length} != {numel} x itemsize")
        if off % ALIGN or off < end or off - end >= ALIGN:
            raise ValueError(f"initializer {t.name}: offset {off} not the next {ALIGN}-aligned "
                             f"position after {end}")
        end = off + length
    return end


def check_model_file(path: str) -> None:
    """Run onnx.checker.check_model on a model whose weights file does not exist.

    onnx 1.12's checker (path form and in-memory form alike) stat()s the file
    named by every external initializer's 'location' and fails with "Data of
    TensorProto ... should be stored in X, but it doesn't exist or is not
    accessible"; it does not read or size-check it, and onnx 1.12 offers no
    option to skip that.  So the unmodified .onnx file is copied into a private
    temporary folder next to an EMPTY placeholder of the data file name, and
    check_model(path) runs on that copy.  The real data file is never created.
    Strict shape inference runs on the proto loaded with
    load_external_data=False, and the external-data layout is checked by
    check_external_layout.
    """
    import shutil
    model = onnx.load(path, load_external_data=False)
    locations = {kv.value for t in model.graph.initializer for kv in t.external_data
                 if kv.key == "location"}
    with tempfile.TemporaryDirectory(prefix="shape_only_gpt_check.") as tmp:
        copy = os.path.join(tmp, os.path.basename(path))
        shutil.copyfile(path, copy)
        for loc in locations:
            if os.path.isabs(loc) or ".." in loc.split("/") or "/" in loc:
                raise ValueError(f"unexpected external data location {loc!r}")
            open(os.path.join(tmp, loc), "wb").close()
        onnx.checker.check_model(copy)
    onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    check_external_layout(model)


def save_atomic(model: onnx.ModelProto, path: str) -> int:
    data = model.SerializeToString()
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        old = os.umask(0)
        os.umask(old)
        os.chmod(tmp, 0o666 & ~old)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return len(data)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layers", type=int, required=True)
    p.add_argument("--hidden", type=int, required=True)
    p.add_argument("--heads", type=int, required=True)
    p.add_argument("--seq", type=int, required=True, help="sequence length (= positions)")
    p.add_argument("--vocab", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--out", required=True, help="output .onnx file")
    p.add_argument("--ffn-mult", type=int, default=4, help="MLP hidden = ffn-mult * hidden (default 4)")
    p.add_argument("--dtype", choices=sorted(DTYPES), default="float16")
    p.add_argument("--dynamic-batch", action="store_true",
                   help="a symbolic batch dimension (--batch is then only recorded)")
    p.add_argument("--no-check", action="store_true", help="skip onnx.checker on the written file")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    data_file = os.path.splitext(os.path.basename(args.out))[0] + ".weights.bin"
    try:
        model = build(args.layers, args.hidden, args.heads, args.seq, args.vocab, args.batch,
                      args.ffn_mult, args.dtype, data_file, args.dynamic_batch)
    except ValueError as e:
        p.error(str(e))
    t_build = time.perf_counter() - t0
    size = save_atomic(model, args.out)
    t_save = time.perf_counter() - t0
    if not args.no_check:
        try:
            check_model_file(args.out)
        except Exception as e:
            print(f"error: onnx.checker failed on {args.out}: {e}", file=sys.stderr)
            return 1
    t_all = time.perf_counter() - t0
    meta = {e.key: e.value for e in model.metadata_props}
    n = int(meta["parameters"])
    print(f"parameters: {n} ({n / 1e9:.3f} B)")
    print(f"weights (not written): {meta['weights_file']}, {int(meta['weights_bytes'])} bytes "
          f"({args.dtype}, {ALIGN}-byte aligned)")
    print(f"nodes: {len(model.graph.node)}, initializers: {len(model.graph.initializer)}")
    print(f"wrote {args.out}: {size} bytes; build {t_build:.2f} s, +save {t_save - t_build:.2f} s"
          + ("" if args.no_check else f", +check {t_all - t_save:.2f} s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
