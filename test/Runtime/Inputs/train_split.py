"""A training program with a weight split over 2 ranks, to check the
runtime's per-rank state: each rank reads only its slice, updates it, and
--save-weights gathers the slices into the whole weight.

  train_split.py make DIR [inline]
                               writes DIR/model.onnx (+ w.bin), DIR/split.mlir;
                               with `inline`, W's bytes are inside model.onnx
                               (raw_data) and the weight points there
  train_split.py check DIR STEPS LOSSES.csv SAVED_DIR

The program: W (4x6, split by columns over the grid's 2 ranks, 4x3 each)
and its SGD momentum buffer (zero storage, split the same way). Each step
the loss is sum(W) (each rank's partial sum, all-reduced), and SGD with
lr 0.1 and momentum 0.9 applies a gradient of ones to each rank's slice.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

W0 = np.arange(24, dtype=np.float32).reshape(4, 6) / 10


def make(out, inline=False):
    W0.tofile(os.path.join(out, "w.bin"))
    if inline:
        t = numpy_helper.from_array(W0, "W")
    else:
        t = TensorProto(name="W", data_type=TensorProto.FLOAT, dims=[4, 6])
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", "w.bin"), ("offset", "0"), ("length", "96")):
            e = t.external_data.add()
            e.key, e.value = k, v
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])], "split",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6])], [t])
    onnx.save_model(helper.make_model(graph), os.path.join(out, "model.onnx"))
    data = '"w.bin", offset = 0'
    if inline:
        offset = open(os.path.join(out, "model.onnx"), "rb").read().find(
            W0.tobytes())
        data = f'"model.onnx", offset = {offset}'
    storage = "inline" if inline else "external"
    split = ('{global_shape = array<i64: 4, 6>, grid = @g, '
             'split_axes = #shard<axisarray[[], [0]]>}')
    with open(os.path.join(out, "split.mlir"), "w") as f:
        f.write(f'''module attributes {{dist.source_model = "model.onnx"}} {{
  shard.grid @g(shape = 2)
  func.func @main() -> (tensor<f32> {{dist.name = "loss"}}) attributes {{dist.train}} {{
    %w = dist.weight "W" : tensor<4x3xf32> at #dist.data<storage = {storage}, path = {data}, length = 96> {split}
    %b = dist.weight "W.sgd.momentum" : tensor<4x3xf32> at #dist.data<storage = zero, path = "", offset = 0, length = 96> {split}
    %part = dist.reduce sum %w {{axes = array<i64: 0, 1>}} : (tensor<4x3xf32>) -> tensor<f32>
    %loss = shard.all_reduce %part on @g grid_axes = [0] : tensor<f32> -> tensor<f32>
    %g = dist.constant dense<1.0> : tensor<4x3xf32>
    %w1, %b1 = dist.sgd %w, %g, %b {{lr = 0.1 : f64, momentum = 0.9 : f64}} : (tensor<4x3xf32>, tensor<4x3xf32>, tensor<4x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>)
    dist.assign %w, %w1 : tensor<4x3xf32>
    dist.assign %b, %b1 : tensor<4x3xf32>
    return %loss : tensor<f32>
  }}
}}
''')


def check(out, steps, csv, saved):
    w, buf, losses = W0.astype(np.float64), np.zeros((4, 6)), []
    for _ in range(steps):
        losses.append(w.sum())
        buf = 0.9 * buf + 1.0
        w = w - 0.1 * buf
    got = [float(l.split(",")[1]) for l in open(csv).read().splitlines()[1:]]
    print("losses", got, "expected", losses)
    assert np.allclose(got, losses, rtol=1e-6), "losses differ"
    model = onnx.load(os.path.join(saved, "model.onnx"))
    found = numpy_helper.to_array(model.graph.initializer[0], base_dir=saved)
    print("W max difference", np.abs(found - w).max())
    assert found.shape == (4, 6) and np.allclose(found, w, atol=1e-5), "W"
    state = json.load(open(os.path.join(saved, "state.json")))
    entry = [e for e in state["weights"] if e["name"] == "W.sgd.momentum"][0]
    assert entry["shape"] == [4, 6] and entry["file"] == "optimizer.bin", entry
    raw = open(os.path.join(saved, entry["file"]), "rb").read()
    b = np.frombuffer(raw[entry["offset"]:entry["offset"] + 96], np.float32)
    assert np.allclose(b.reshape(4, 6), buf, atol=1e-6), "momentum buffer"
    print("OK")


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == "inline")
    else:
        check(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
