"""A tiny MLP training step written by hand in the dist dialect, its ONNX
model, data, and a PyTorch re-implementation that checks dist-run's losses
and saved weights.

  train_mlp.py make DIR OPTIMIZER     writes DIR/model.onnx (+ w.bin),
                                      DIR/train.mlir, DIR/x.npy, DIR/y.npy,
                                      DIR/xs.npy, DIR/ys.npy
  train_mlp.py logits DIR OPTIMIZER STEPS LOGITS.npy
                                      the logits (ONNX Runtime's, on the saved
                                      model.onnx and x.npy) equal PyTorch's
                                      after STEPS steps (rtol 1e-5)
  train_mlp.py check DIR OPTIMIZER STEPS LOSSES.csv [SAVED_DIR] [--data]
                                      PyTorch trains the same model; the
                                      losses (rtol 1e-5) and the saved
                                      weights (1e-5 of their scale) must match

The model: logits = relu(x @ w1 + b1) @ w2 + b2, x: 8x4, 3 classes; the
loss is cross-entropy with mean reduction. OPTIMIZER is adamw or sgd
(momentum 0.9, weight decay 0.01).
"""
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

B, D, H, C, K = 8, 4, 6, 3, 3
LR = 0.05
ADAMW = dict(lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
SGD = dict(lr=LR, momentum=0.9, weight_decay=0.01)
NAMES = ["w1", "b1", "w2", "b2"]


def initial():
    rng = np.random.default_rng(7)
    return {
        "w1": rng.standard_normal((D, H)).astype(np.float32) * 0.5,
        "b1": rng.standard_normal((H,)).astype(np.float32) * 0.1,
        "w2": rng.standard_normal((H, C)).astype(np.float32) * 0.5,
        "b2": rng.standard_normal((C,)).astype(np.float32) * 0.1,
    }


def data():
    rng = np.random.default_rng(11)
    xs = rng.standard_normal((K, B, D)).astype(np.float32)
    ys = rng.integers(0, C, size=(K, B)).astype(np.int64)
    return xs, ys


def ttype(shape, elem="f32"):
    return "tensor<" + "".join(f"{d}x" for d in shape) + elem + ">"


def make(out, optimizer, ranks=1):
    weights = initial()
    blob, offsets = b"", {}
    for n in NAMES:
        offsets[n] = len(blob)
        blob += weights[n].tobytes()
    with open(os.path.join(out, "w.bin"), "wb") as f:
        f.write(blob)
    inits = []
    for n in NAMES:
        t = TensorProto(name=n, data_type=TensorProto.FLOAT,
                        dims=list(weights[n].shape))
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", "w.bin"), ("offset", offsets[n]),
                     ("length", weights[n].nbytes)):
            e = t.external_data.add()
            e.key, e.value = k, str(v)
        inits.append(t)
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"]),
        helper.make_node("Add", ["h0", "b1"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h"]),
        helper.make_node("MatMul", ["h", "w2"], ["l0"]),
        helper.make_node("Add", ["l0", "b2"], ["logits"]),
    ]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [B, D])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [B, C])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.save_model(model, os.path.join(out, "model.onnx"))
    name = "train.mlir" if ranks == 1 else f"train-dp{ranks}.mlir"
    with open(os.path.join(out, name), "w") as f:
        f.write(program(weights, offsets, optimizer, ranks))
    xs, ys = data()
    # Each rank's piece of the batch, for the data-parallel program.
    for r in range(ranks if ranks > 1 else 0):
        piece = slice(r * B // ranks, (r + 1) * B // ranks)
        np.save(os.path.join(out, f"x_r{r}.npy"), xs[0][piece])
        np.save(os.path.join(out, f"y_r{r}.npy"), ys[0][piece])
    np.save(os.path.join(out, "x.npy"), xs[0])
    np.save(os.path.join(out, "y.npy"), ys[0])
    np.save(os.path.join(out, "xs.npy"), xs)
    np.save(os.path.join(out, "ys.npy"), ys)


def program(weights, offsets, optimizer, ranks=1):
    """The training step; with ranks > 1, its data-parallel form written by
    hand for a grid of `ranks`: each rank takes B / ranks rows of the batch,
    the loss and the gradients are all-reduced (the loss as a mean), and
    every rank updates its whole copy of the weights the same way."""
    f32 = lambda s: ttype(s)
    lines = []
    emit = lines.append
    Bg, B = globals()["B"], globals()["B"] // ranks
    sfx = "" if ranks == 1 else "_local"

    def all_reduce(name, shape, scale=None):
        emit(f"  %{name}_sum = shard.all_reduce %{name}_local on @dp grid_axes "
             f"= [0] : {f32(shape)} -> {f32(shape)}")
        if scale is None:
            emit(f"  %{name} = dist.reshape %{name}_sum : {f32(shape)} to "
                 f"{f32(shape)}")
        else:
            emit(f"  %{name}_k = dist.constant dense<{scale:.9e}> : tensor<f32>")
            emit(f"  %{name} = dist.binary mul %{name}_sum, %{name}_k : "
                 f"({f32(shape)}, tensor<f32>) -> {f32(shape)}")
    for n in NAMES:
        shape = weights[n].shape
        emit(f'  %{n} = dist.weight "{n}" : {f32(shape)} at #dist.data<storage = '
             f'external, path = "w.bin", offset = {offsets[n]}, length = '
             f'{weights[n].nbytes}>')
    emit(f"  %pre0 = dist.matmul %x, %w1, %b1 : ({f32([B, D])}, {f32([D, H])}, "
         f"{f32([H])}) -> {f32([B, H])}")
    emit(f"  %h = dist.unary relu %pre0 : {f32([B, H])}")
    emit(f"  %logits = dist.matmul %h, %w2, %b2 : ({f32([B, H])}, {f32([H, C])}, "
         f"{f32([C])}) -> {f32([B, C])}")
    loss = "loss" if ranks == 1 else "loss_local"
    emit(f"  %{loss} = dist.cross_entropy %logits, %y : ({f32([B, C])}, "
         f"{ttype([B], 'i64')}) -> tensor<f32>")
    if ranks > 1:
        all_reduce("loss", [], 1.0 / ranks)
    # Backward, by hand (the mean is over the whole batch).
    emit(f"  %scale = dist.constant dense<{1.0 / Bg:.9e}> : tensor<f32>")
    emit(f"  %dlogits = dist.cross_entropy_grad %logits, %y, %scale : "
         f"({f32([B, C])}, {ttype([B], 'i64')}, tensor<f32>) -> {f32([B, C])}")
    emit(f"  %hT = dist.transpose %h {{perm = array<i64: 1, 0>}} : ({f32([B, H])}) "
         f"-> {f32([H, B])}")
    emit(f"  %g_w2{sfx} = dist.matmul %hT, %dlogits : ({f32([H, B])}, {f32([B, C])}) "
         f"-> {f32([H, C])}")
    emit(f"  %g_b2{sfx} = dist.reduce sum %dlogits {{axes = array<i64: 0>}} : "
         f"({f32([B, C])}) -> {f32([C])}")
    emit(f"  %w2T = dist.transpose %w2 {{perm = array<i64: 1, 0>}} : "
         f"({f32([H, C])}) -> {f32([C, H])}")
    emit(f"  %dh = dist.matmul %dlogits, %w2T : ({f32([B, C])}, {f32([C, H])}) "
         f"-> {f32([B, H])}")
    emit("  %zero = dist.constant dense<0.0> : tensor<f32>")
    emit(f"  %mask = dist.compare gt %pre0, %zero : ({f32([B, H])}, tensor<f32>) "
         f"-> {ttype([B, H], 'i1')}")
    emit(f"  %dpre = dist.select %mask, %dh, %zero : ({ttype([B, H], 'i1')}, "
         f"{f32([B, H])}, tensor<f32>) -> {f32([B, H])}")
    emit(f"  %xT = dist.transpose %x {{perm = array<i64: 1, 0>}} : ({f32([B, D])}) "
         f"-> {f32([D, B])}")
    emit(f"  %g_w1{sfx} = dist.matmul %xT, %dpre : ({f32([D, B])}, {f32([B, H])}) "
         f"-> {f32([D, H])}")
    emit(f"  %g_b1{sfx} = dist.reduce sum %dpre {{axes = array<i64: 0>}} : "
         f"({f32([B, H])}) -> {f32([H])}")
    if ranks > 1:
        for n in NAMES:
            all_reduce("g_" + n, weights[n].shape)
    # Optimizer.
    if optimizer == "adamw":
        emit('  %step = dist.weight "adamw.step" : tensor<f32> at #dist.data<'
             'storage = zero, path = "", offset = 0, length = 4>')
        emit("  %one = dist.constant dense<1.0> : tensor<f32>")
        emit("  %t = dist.binary add %step, %one : (tensor<f32>, tensor<f32>) "
             "-> tensor<f32>")
    for n in NAMES:
        shape = weights[n].shape
        ty, nbytes = f32(shape), weights[n].nbytes
        states = ["adamw.m", "adamw.v"] if optimizer == "adamw" else ["sgd.momentum"]
        for s in states:
            emit(f'  %{n}_{s.split(".")[1]} = dist.weight "{n}.{s}" : {ty} at '
                 f'#dist.data<storage = zero, path = "", offset = 0, length = '
                 f'{nbytes}>')
        if optimizer == "adamw":
            a = ADAMW
            emit(f"  %{n}_new, %{n}_m1, %{n}_v1 = dist.adamw %{n}, %g_{n}, %{n}_m, "
                 f"%{n}_v, %t {{lr = {a['lr']} : f64, beta1 = {a['betas'][0]} : "
                 f"f64, beta2 = {a['betas'][1]} : f64, eps = {a['eps']:.1e} : f64, "
                 f"weight_decay = {a['weight_decay']} : f64}} : ({ty}, {ty}, {ty}, "
                 f"{ty}, tensor<f32>) -> ({ty}, {ty}, {ty})")
            emit(f"  dist.assign %{n}_m, %{n}_m1 : {ty}")
            emit(f"  dist.assign %{n}_v, %{n}_v1 : {ty}")
        else:
            a = SGD
            emit(f"  %{n}_new, %{n}_b1 = dist.sgd %{n}, %g_{n}, %{n}_momentum "
                 f"{{lr = {a['lr']} : f64, momentum = {a['momentum']} : f64, "
                 f"weight_decay = {a['weight_decay']} : f64}} : ({ty}, {ty}, {ty}) "
                 f"-> ({ty}, {ty})")
            emit(f"  dist.assign %{n}_momentum, %{n}_b1 : {ty}")
        emit(f"  dist.assign %{n}, %{n}_new : {ty}")
    if optimizer == "adamw":
        emit("  dist.assign %step, %t : tensor<f32>")
    emit("  return %loss : tensor<f32>")
    grid = f"  shard.grid @dp(shape = {ranks})\n" if ranks > 1 else ""
    head = (f'module attributes {{dist.source_model = "model.onnx"}} {{\n' + grid +
            f'  func.func @main(%x: {f32([B, D])} {{dist.name = "x"}}, '
            f'%y: {ttype([B], "i64")} {{dist.name = "labels"}}) -> '
            f'(tensor<f32> {{dist.name = "loss"}}) attributes {{dist.train}} {{\n')
    return head + "\n".join("  " + l for l in lines) + "\n  }\n}\n"


def reference(optimizer, steps, use_data):
    w = {n: torch.nn.Parameter(torch.tensor(v)) for n, v in initial().items()}
    params = [w[n] for n in NAMES]
    opt = (torch.optim.AdamW(params, **ADAMW) if optimizer == "adamw"
           else torch.optim.SGD(params, **SGD))
    xs, ys = data()
    losses = []
    for k in range(steps):
        x = torch.tensor(xs[k % K] if use_data else xs[0])
        y = torch.tensor(ys[k % K] if use_data else ys[0])
        opt.zero_grad()
        logits = torch.relu(x @ w["w1"] + w["b1"]) @ w["w2"] + w["b2"]
        loss = torch.nn.functional.cross_entropy(logits, y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {n: w[n].detach().numpy() for n in NAMES}


def check(argv):
    out, optimizer, steps, csv = argv[0], argv[1], int(argv[2]), argv[3]
    saved = argv[4] if len(argv) > 4 and not argv[4].startswith("--") else None
    use_data = "--data" in argv
    want, weights = reference(optimizer, steps, use_data)
    lines = open(csv).read().splitlines()
    assert lines[0] == "step,loss", lines[0]
    got = [float(l.split(",")[1]) for l in lines[1:]]
    steps_logged = [int(l.split(",")[0]) for l in lines[1:]]
    print("dist-run:", got)
    print("pytorch: ", want[-len(got):])
    assert steps_logged == list(range(steps - len(got) + 1, steps + 1)), steps_logged
    assert np.allclose(got, want[-len(got):], rtol=1e-5, atol=0), "losses differ"
    if saved:
        model = onnx.load(os.path.join(saved, "model.onnx"))
        found = {t.name: numpy_helper.to_array(t, base_dir=saved)
                 for t in model.graph.initializer}
        for n in NAMES:
            diff = np.abs(found[n] - weights[n]).max()
            scale = np.abs(weights[n]).max()
            print(n, "max difference", diff, "scale", scale)
            assert diff <= 1e-5 * max(scale, 1e-3), n
    print("OK")


def logits(argv):
    out, optimizer, steps, path = argv[0], argv[1], int(argv[2]), argv[3]
    _, w = reference(optimizer, steps, False)
    x = np.load(os.path.join(out, "x.npy"))
    want = np.maximum(x @ w["w1"] + w["b1"], 0) @ w["w2"] + w["b2"]
    got = np.load(path)
    print("max difference", np.abs(got - want).max())
    assert got.shape == want.shape and np.allclose(got, want, rtol=1e-5,
                                                   atol=1e-6)
    print("OK")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4
             else 1)
    elif sys.argv[1] == "logits":
        logits(sys.argv[2:])
    else:
        check(sys.argv[2:])
