"""Training pipelines written by hand (docs/pipeline.md, "The artifact of a
training pipeline"), and the same training step as one dist.train function,
for test/Runtime/pipeline-train-*.test.

  pipeline_train_mlp.py make DIR STAGES B
      writes DIR/w.bin (the initial weights), DIR/model.onnx (the model,
      its weights in w.bin), DIR/pipe.mlir (the pipeline
      of STAGES = 2 or 3 stages for micro-batches of B rows), DIR/whole-R.mlir
      (the one-function step for R = B, 2B, 4B rows), DIR/x.npy, DIR/y.npy
      (4B rows), DIR/xs.npy, DIR/ys.npy (3 batches of 4B rows)
  pipeline_train_mlp.py replace IN OUT OLD NEW [OLD NEW ...]
      writes IN with each OLD (which must occur exactly once) replaced by
      NEW (\\n: a new line), for the error tests
  pipeline_train_mlp.py compare-saved DIR_A DIR_B
      the states saved by --save-weights hold the same weights (model.onnx)
      and optimizer states (optimizer.bin), within rtol 1e-5 of each
      weight's scale
  pipeline_train_mlp.py compare A.csv B.csv
      the loss logs have the same steps and losses within rtol 1e-5

2 stages: logits = relu(x @ w1 + b1) @ w2 + b2; 3 stages: h1 = relu(x @ w1 +
b1), h2 = relu(h1 @ w2 + b2), logits = (h2 + h1) @ w3 + b3 (h1 goes from
stage 0 to stage 2, and is read by stage 1's backward). Cross-entropy with
mean reduction, SGD with momentum 0.9 and weight decay 0.01; every stage's
update also counts the steps in one state, "opt.step".
"""
import os
import sys

import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

D, H, C = 4, 6, 3
SGD = "lr = 0.05 : f64, momentum = 0.9 : f64, weight_decay = 0.01 : f64"


def t(shape, elem="f32"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + elem + ">"


def weights(stages):
    rng = np.random.default_rng(5)
    shapes = {"w1": (D, H), "b1": (H,), "w2": (H, H if stages == 3 else C),
              "b2": (H if stages == 3 else C,)}
    if stages == 3:
        shapes.update({"w3": (H, C), "b3": (C,)})
    return {n: (rng.standard_normal(s) * 0.5).astype(np.float32)
            for n, s in shapes.items()}


class Fn:
    """One stage function: arguments, results (ssa, type, attrs) and body."""

    def __init__(self, name, stage, phase):
        self.name, self.stage, self.phase = name, stage, phase
        self.args, self.results, self.body = [], [], []

    def weight(self, n, ws, offsets):
        w = ws[n]
        self.body.append(
            f'%{self.name}_{n} = dist.weight "{n}" : {t(w.shape)} at '
            f'#dist.data<storage = external, path = "w.bin", offset = '
            f'{offsets[n]}, length = {w.nbytes}>')
        return f"%{self.name}_{n}"

    def text(self):
        args = ", ".join(f"%{v}: {ty} {{{a}}}" for v, ty, a in self.args)
        res = ", ".join(f"{ty} {{{a}}}" for _, ty, a in self.results)
        ret = ", ".join(f"%{v}" for v, _, _ in self.results)
        rty = ", ".join(ty for _, ty, _ in self.results)
        lines = [f"  func.func @{self.name}({args}) -> ({res}) attributes "
                 f'{{dist.stage = {self.stage} : i64, dist.phase = '
                 f'"{self.phase}"}} {{']
        lines += ["    " + l for l in self.body]
        lines.append(f"    return {ret} : {rty}" if ret else "    return")
        return "\n".join(lines) + "\n  }\n"


def linear(fn, out, inp, n, w, b, ws, offsets):
    wv, bv = fn.weight(w, ws, offsets), fn.weight(b, ws, offsets)
    k, o = ws[w].shape
    fn.body.append(f"%{out} = dist.matmul %{inp}, {wv}, {bv} : ({t([n, k])}, "
                   f"{t([k, o])}, {t([o])}) -> {t([n, o])}")


def relu(fn, out, inp, n, width):
    fn.body.append(f"%{out} = dist.unary relu %{inp} : {t([n, width])}")


def linear_grad(fn, g, inp, n, w, b, ws, offsets, dinp=None):
    """g_w = inp^T g, g_b = sum g; with dinp, dinp = g w^T."""
    k, o = ws[w].shape
    fn.body.append(f"%{inp}T_{fn.name} = dist.transpose %{inp} {{perm = "
                   f"array<i64: 1, 0>}} : ({t([n, k])}) -> {t([k, n])}")
    fn.body.append(f"%g_{w} = dist.matmul %{inp}T_{fn.name}, %{g} : "
                   f"({t([k, n])}, {t([n, o])}) -> {t([k, o])}")
    fn.body.append(f"%g_{b} = dist.reduce sum %{g} {{axes = array<i64: 0>}} :"
                   f" ({t([n, o])}) -> {t([o])}")
    if dinp:
        wv = fn.weight(w, ws, offsets)
        fn.body.append(f"%{w}T_{fn.name} = dist.transpose {wv} {{perm = "
                       f"array<i64: 1, 0>}} : ({t([k, o])}) -> {t([o, k])}")
        fn.body.append(f"%{dinp} = dist.matmul %{g}, %{w}T_{fn.name} : "
                       f"({t([n, o])}, {t([o, k])}) -> {t([n, k])}")


def relu_grad(fn, out, g, pre, n, width):
    z = f"%zero_{fn.name}"
    fn.body.append(f"{z} = dist.constant dense<0.0> : tensor<f32>")
    fn.body.append(f"%mask_{out} = dist.compare gt %{pre}, {z} : "
                   f"({t([n, width])}, tensor<f32>) -> {t([n, width], 'i1')}")
    fn.body.append(f"%{out} = dist.select %mask_{out}, %{g}, {z} : "
                   f"({t([n, width], 'i1')}, {t([n, width])}, tensor<f32>) -> "
                   f"{t([n, width])}")


def loss_fwd(fn, logits, n):
    fn.body.append(f"%loss = dist.cross_entropy %{logits}, %y : "
                   f"({t([n, C])}, {t([n], 'i64')}) -> tensor<f32>")


def loss_grad(fn, logits, n):
    fn.body.append(f"%scale = dist.constant dense<{1.0 / n:.9e}> : "
                   "tensor<f32>")
    fn.body.append(f"%dlogits = dist.cross_entropy_grad %{logits}, %y, %scale "
                   f": ({t([n, C])}, {t([n], 'i64')}, tensor<f32>) -> "
                   f"{t([n, C])}")


def update(fn, names, ws, offsets):
    # A step counter that every stage's update keeps the same way (as
    # AdamW's): one state of one name, assigned by every stage.
    fn.body.append(f'%{fn.name}_step = dist.weight "opt.step" : tensor<f32> '
                   'at #dist.data<storage = zero, path = "", offset = 0, '
                   'length = 4>')
    fn.body.append(f"%{fn.name}_one = dist.constant dense<1.0> : tensor<f32>")
    fn.body.append(f"%{fn.name}_step1 = dist.binary add %{fn.name}_step, "
                   f"%{fn.name}_one : (tensor<f32>, tensor<f32>) -> "
                   "tensor<f32>")
    fn.body.append(f"dist.assign %{fn.name}_step, %{fn.name}_step1 : "
                   "tensor<f32>")
    for n in names:
        ty = t(ws[n].shape)
        fn.args.append((f"g_{n}", ty, f"dist.accumulate = {fn.acc[n]} : i64"))
        wv = fn.weight(n, ws, offsets)
        fn.body.append(f'%{n}_mom = dist.weight "{n}.sgd.momentum" : {ty} at '
                       f'#dist.data<storage = zero, path = "", offset = 0, '
                       f'length = {ws[n].nbytes}>')
        fn.body.append(f"%{n}_new, %{n}_mom1 = dist.sgd {wv}, %g_{n}, "
                       f"%{n}_mom {{{SGD}}} : ({ty}, {ty}, {ty}) -> ({ty}, "
                       f"{ty})")
        fn.body.append(f"dist.assign %{n}_mom, %{n}_mom1 : {ty}")
        fn.body.append(f"dist.assign {wv}, %{n}_new : {ty}")


def bnd(i):
    return f"dist.boundary = {i} : i64"


X = lambda n: ("x", t([n, D]), 'dist.name = "x"')
Y = lambda n: ("y", t([n], "i64"), 'dist.name = "labels"')


def two_stages(n, ws, offsets):
    F0, F1 = Fn("s0_forward", 0, "forward"), Fn("s1_forward", 1, "forward")
    B1, B0 = Fn("s1_backward", 1, "backward"), Fn("s0_backward", 0, "backward")
    U0, U1 = Fn("s0_update", 0, "update"), Fn("s1_update", 1, "update")
    F0.args = [X(n)]
    linear(F0, "pre1", "x", n, "w1", "b1", ws, offsets)
    relu(F0, "h1", "pre1", n, H)
    F0.results = [("h1", t([n, H]), bnd(0)), ("pre1", t([n, H]), bnd(1))]
    F1.args = [("h1", t([n, H]), bnd(0)), Y(n)]
    linear(F1, "logits", "h1", n, "w2", "b2", ws, offsets)
    loss_fwd(F1, "logits", n)
    F1.results = [("loss", "tensor<f32>", 'dist.loss, dist.name = "loss"'),
                  ("logits", t([n, C]), bnd(2))]
    B1.args = [("h1", t([n, H]), bnd(0)), ("logits", t([n, C]), bnd(2)), Y(n)]
    loss_grad(B1, "logits", n)
    linear_grad(B1, "dlogits", "h1", n, "w2", "b2", ws, offsets, dinp="dh1")
    B1.results = [("dh1", t([n, H]), bnd(3)),
                  ("g_w2", t([H, C]), "dist.accumulate = 0 : i64"),
                  ("g_b2", t([C]), "dist.accumulate = 1 : i64")]
    B0.args = [("pre1", t([n, H]), bnd(1)), ("dh1", t([n, H]), bnd(3)), X(n)]
    relu_grad(B0, "dpre1", "dh1", "pre1", n, H)
    linear_grad(B0, "dpre1", "x", n, "w1", "b1", ws, offsets)
    B0.results = [("g_w1", t([D, H]), "dist.accumulate = 2 : i64"),
                  ("g_b1", t([H]), "dist.accumulate = 3 : i64")]
    U0.acc, U1.acc = {"w1": 2, "b1": 3}, {"w2": 0, "b2": 1}
    update(U0, ["w1", "b1"], ws, offsets)
    update(U1, ["w2", "b2"], ws, offsets)
    return [F0, F1, B1, B0, U0, U1]


def three_stages(n, ws, offsets):
    F = [Fn(f"s{k}_forward", k, "forward") for k in range(3)]
    B = [Fn(f"s{k}_backward", k, "backward") for k in range(3)]
    U = [Fn(f"s{k}_update", k, "update") for k in range(3)]
    F[0].args = [X(n)]
    linear(F[0], "pre1", "x", n, "w1", "b1", ws, offsets)
    relu(F[0], "h1", "pre1", n, H)
    F[0].results = [("h1", t([n, H]), bnd(0)), ("pre1", t([n, H]), bnd(1))]
    F[1].args = [("h1", t([n, H]), bnd(0))]
    linear(F[1], "pre2", "h1", n, "w2", "b2", ws, offsets)
    relu(F[1], "h2", "pre2", n, H)
    F[1].results = [("h2", t([n, H]), bnd(2)), ("pre2", t([n, H]), bnd(3))]
    F[2].args = [("h2", t([n, H]), bnd(2)), ("h1", t([n, H]), bnd(0)), Y(n)]
    F[2].body.append(f"%z = dist.binary add %h2, %h1 : ({t([n, H])}, "
                     f"{t([n, H])}) -> {t([n, H])}")
    linear(F[2], "logits", "z", n, "w3", "b3", ws, offsets)
    loss_fwd(F[2], "logits", n)
    F[2].results = [("loss", "tensor<f32>", 'dist.loss, dist.name = "loss"'),
                    ("logits", t([n, C]), bnd(4)), ("z", t([n, H]), bnd(5))]
    B[2].args = [("logits", t([n, C]), bnd(4)), ("z", t([n, H]), bnd(5)), Y(n)]
    loss_grad(B[2], "logits", n)
    linear_grad(B[2], "dlogits", "z", n, "w3", "b3", ws, offsets, dinp="dz")
    B[2].results = [("dz", t([n, H]), bnd(6)),
                    ("g_w3", t([H, C]), "dist.accumulate = 0 : i64"),
                    ("g_b3", t([C]), "dist.accumulate = 1 : i64")]
    B[1].args = [("dz", t([n, H]), bnd(6)), ("pre2", t([n, H]), bnd(3)),
                 ("h1", t([n, H]), bnd(0))]
    relu_grad(B[1], "dpre2", "dz", "pre2", n, H)
    linear_grad(B[1], "dpre2", "h1", n, "w2", "b2", ws, offsets, dinp="dh1m")
    B[1].results = [("dh1m", t([n, H]), bnd(7)),
                    ("g_w2", t([H, H]), "dist.accumulate = 2 : i64"),
                    ("g_b2", t([H]), "dist.accumulate = 3 : i64")]
    B[0].args = [("dz", t([n, H]), bnd(6)), ("dh1m", t([n, H]), bnd(7)),
                 ("pre1", t([n, H]), bnd(1)), X(n)]
    B[0].body.append(f"%dh1 = dist.binary add %dz, %dh1m : ({t([n, H])}, "
                     f"{t([n, H])}) -> {t([n, H])}")
    relu_grad(B[0], "dpre1", "dh1", "pre1", n, H)
    linear_grad(B[0], "dpre1", "x", n, "w1", "b1", ws, offsets)
    B[0].results = [("g_w1", t([D, H]), "dist.accumulate = 4 : i64"),
                    ("g_b1", t([H]), "dist.accumulate = 5 : i64")]
    U[0].acc, U[1].acc = {"w1": 4, "b1": 5}, {"w2": 2, "b2": 3}
    U[2].acc = {"w3": 0, "b3": 1}
    for k, names in enumerate([["w1", "b1"], ["w2", "b2"], ["w3", "b3"]]):
        update(U[k], names, ws, offsets)
    return [F[0], F[1], F[2], B[2], B[1], B[0]] + U


def onnx_model(out, stages, ws, offsets, rows):
    """The model, its initializers external data in w.bin."""
    inits = []
    for n, w in ws.items():
        t_ = TensorProto(name=n, data_type=TensorProto.FLOAT, dims=w.shape)
        t_.data_location = TensorProto.EXTERNAL
        for k, v in (("location", "w.bin"), ("offset", offsets[n]),
                     ("length", w.nbytes)):
            e = t_.external_data.add()
            e.key, e.value = k, str(v)
        inits.append(t_)
    mk = helper.make_node
    nodes = [mk("MatMul", ["x", "w1"], ["m1"]), mk("Add", ["m1", "b1"], ["p1"]),
             mk("Relu", ["p1"], ["h1"]), mk("MatMul", ["h1", "w2"], ["m2"]),
             mk("Add", ["m2", "b2"], ["p2" if stages == 3 else "logits"])]
    if stages == 3:
        nodes += [mk("Relu", ["p2"], ["h2"]), mk("Add", ["h2", "h1"], ["z"]),
                  mk("MatMul", ["z", "w3"], ["m3"]),
                  mk("Add", ["m3", "b3"], ["logits"])]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, D])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                       [rows, C])], inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    onnx.save_model(model, os.path.join(out, "model.onnx"))


HEAD = 'module attributes {dist.source_model = "model.onnx"} {\n'


def make(out, stages, b):
    ws = weights(stages)
    blob, offsets = b"", {}
    for n, w in ws.items():
        offsets[n] = len(blob)
        blob += w.tobytes()
    open(os.path.join(out, "w.bin"), "wb").write(blob)
    onnx_model(out, stages, ws, offsets, 4 * b)
    build = two_stages if stages == 2 else three_stages
    fns = build(b, ws, offsets)
    with open(os.path.join(out, "pipe.mlir"), "w") as f:
        f.write(HEAD + "".join(fn.text() for fn in fns) + "}\n")
    for rows in (b, 2 * b, 4 * b):
        body = [l for fn in build(rows, ws, offsets) for l in fn.body]
        with open(os.path.join(out, f"whole-{rows}.mlir"), "w") as f:
            f.write(HEAD + "  func.func @main(%x: " + t([rows, D]) +
                    ' {dist.name = "x"}, %y: ' + t([rows], "i64") +
                    ' {dist.name = "labels"}) -> (tensor<f32> {dist.name = '
                    '"loss"}) attributes {dist.train} {\n' +
                    "".join("    " + l + "\n" for l in body) +
                    "    return %loss : tensor<f32>\n  }\n}\n")
    rng = np.random.default_rng(3)
    xs = rng.standard_normal((3, 4 * b, D)).astype(np.float32)
    ys = rng.integers(0, C, size=(3, 4 * b)).astype(np.int64)
    np.save(os.path.join(out, "x.npy"), xs[0])
    np.save(os.path.join(out, "y.npy"), ys[0])
    np.save(os.path.join(out, "xs.npy"), xs)
    np.save(os.path.join(out, "ys.npy"), ys)
    for rows in (b, 2 * b):
        np.save(os.path.join(out, f"x{rows}.npy"), xs[0][:rows])
        np.save(os.path.join(out, f"y{rows}.npy"), ys[0][:rows])
        np.save(os.path.join(out, f"xs{rows}.npy"), xs[:, :rows])
        np.save(os.path.join(out, f"ys{rows}.npy"), ys[:, :rows])


def saved(d):
    """Every weight of a saved state, by name."""
    index = json.load(open(os.path.join(d, "state.json")))
    out = {}
    for w in index["weights"]:
        assert w["dtype"] == "f32", w
        n = int(np.prod(w["shape"]))
        raw = np.fromfile(os.path.join(d, w["file"]), dtype=np.float32,
                          count=n, offset=w["offset"])
        out[w["name"]] = raw.reshape(w["shape"])
    model = onnx.load(os.path.join(d, "model.onnx"))
    for t_ in model.graph.initializer:
        got = numpy_helper.to_array(t_, base_dir=d)
        assert np.array_equal(got, out[t_.name]), t_.name
    return index["steps"], out


def compare_saved(a, b):
    (sa, wa), (sb, wb) = saved(a), saved(b)
    assert sa == sb, (sa, sb)
    assert sorted(wa) == sorted(wb), (sorted(wa), sorted(wb))
    initial = weights(3 if "w3" in wa else 2)
    for n in sorted(wa):
        scale = max(np.abs(wa[n]).max(), 1e-3)
        diff = np.abs(wa[n] - wb[n]).max()
        print(n, "max difference", diff, "scale", scale)
        assert diff <= 1e-5 * scale, n
        # Training moved every weight and momentum; 4 steps were counted.
        if n == "opt.step":
            assert wa[n] == sa, (wa[n], sa)
        elif n in initial:
            assert not np.array_equal(wa[n], initial[n]), n
        else:
            assert np.abs(wa[n]).max() > 0, n
    print("OK")


def compare(a, b):
    la, lb = (open(p).read().splitlines() for p in (a, b))
    assert la[0] == lb[0] == "step,loss", (la[0], lb[0])
    sa = [int(l.split(",")[0]) for l in la[1:]]
    sb = [int(l.split(",")[0]) for l in lb[1:]]
    va = np.array([float(l.split(",")[1]) for l in la[1:]])
    vb = np.array([float(l.split(",")[1]) for l in lb[1:]])
    print(a, va)
    print(b, vb)
    assert sa == sb and len(sa) > 0, (sa, sb)
    assert np.allclose(va, vb, rtol=1e-5, atol=0), "losses differ"
    # The steps train: the losses are not all equal.
    assert len(va) < 2 or np.ptp(va) > 0, "the loss did not change"
    print("OK")


def replace(src, dst, pairs):
    text = open(src).read()
    for old, new in zip(pairs[::2], pairs[1::2]):
        old, new = (s.replace("\\n", "\n") for s in (old, new))
        assert text.count(old) == 1, (old, text.count(old))
        text = text.replace(old, new)
    open(dst, "w").write(text)


if __name__ == "__main__":
    if sys.argv[1] == "compare-saved":
        compare_saved(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "replace":
        replace(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        compare(sys.argv[2], sys.argv[3])
