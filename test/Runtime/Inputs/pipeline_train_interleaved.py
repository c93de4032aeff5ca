"""Helpers of test/Runtime/pipeline-train-interleaved.test: training
pipelines compiled by dist-opt, run by rank groups of several stages
(dist.chunks, docs/pipeline.md).

  pipeline_train_interleaved.py data DIR
      writes DIR/ids{2,4,6,8}.npy (token ids, 2 to 8 sequences of 16)
      and DIR/tgt{2,4,6,8}.npy (MSE targets for the logits)
  pipeline_train_interleaved.py chunk IN.dist OUT.mlir V
      writes the artifact IN.dist (its checksum trailer dropped) with the
      module attribute dist.chunks = V
  pipeline_train_interleaved.py same-group ARTIFACT K
      prints each boundary that a stage sends to another stage of its own
      rank group (stage c runs on group c mod K): "boundary B (TYPE):
      stage P -> stage C, group G"
  pipeline_train_interleaved.py two-readers ARTIFACT K
      prints each boundary that two stages of one rank group (other than
      the producer) read: "boundary B (TYPE): stage P -> stages C1 and C2,
      group G"
  pipeline_train_interleaved.py skip-model OUT.onnx
      exports (PyTorch) a 5-layer MLP whose first activation is also added
      to the input of the last layer; dist-opt cuts it into 4 stages so
      that stage 3's backward sends one gradient to stages 0 and 2; and
      its inputs skip-x.npy and skip-y.npy (4 rows) beside it
  pipeline_train_interleaved.py slots TRACE RANK
      prints the pipeline slots ("stage S forward J", ...) that rank RANK
      ran, by start time, one a line
"""
import json
import re
import sys

import numpy as np


def data(out):
    rng = np.random.default_rng(0)
    for rows in (2, 4, 6, 8):
        np.save(f"{out}/ids{rows}.npy", rng.integers(0, 256, (rows, 16)))
        np.save(f"{out}/tgt{rows}.npy",
                (rng.standard_normal((rows, 16, 256)) * 0.1).astype(np.float32))


def chunk(src, dst, v):
    text = open(src, "rb").read()
    trailer = text.rfind(b"DISTSUM1")
    if trailer < 0:
        sys.exit(f"{src} has no checksum trailer")
    text = text[:trailer].decode()
    marker = "module attributes {"
    if text.count(marker) != 1:
        sys.exit(f"{src}: expected one '{marker}'")
    text = text.replace(marker, marker + f"dist.chunks = {v} : i64, ")
    open(dst, "w").write(text)


def boundaries(path):
    """The producing stage, consuming stages and type of each boundary."""
    text = open(path, "rb").read().decode("utf8", "replace")
    producer, consumers, types = {}, {}, {}
    sig = re.compile(r"func\.func @\w+\((.*?)\) -> \((.*?)\) attributes "
                     r"\{([^}]*)\}")
    port = re.compile(r"(tensor<[^>]*>) \{dist\.boundary = (\d+)")
    for args, results, attrs in sig.findall(text):
        stage = int(re.search(r"dist\.stage = (\d+)", attrs).group(1))
        for _, b in port.findall(args):
            consumers.setdefault(int(b), set()).add(stage)
        for ty, b in port.findall(results):
            producer[int(b)], types[int(b)] = stage, ty
    return producer, consumers, types


def same_group(path, groups):
    producer, consumers, types = boundaries(path)
    for b in sorted(producer):
        p = producer[b]
        for c in sorted(consumers.get(b, ())):
            if c != p and c % groups == p % groups:
                print(f"boundary {b} ({types[b]}): stage {p} -> stage {c}, "
                      f"group {p % groups}")


def two_readers(path, groups):
    producer, consumers, types = boundaries(path)
    for b in sorted(producer):
        readers = sorted(c for c in consumers.get(b, ()) if c != producer[b])
        for i, c1 in enumerate(readers):
            for c2 in readers[i + 1:]:
                if c1 % groups == c2 % groups:
                    print(f"boundary {b} ({types[b]}): stage {producer[b]} "
                          f"-> stages {c1} and {c2}, group {c1 % groups}")


def skip_model(out):
    import torch

    class Mlp(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.l0 = torch.nn.Linear(8, 32)
            self.l1 = torch.nn.Linear(32, 32)
            self.l2 = torch.nn.Linear(32, 32)
            self.l3 = torch.nn.Linear(32, 32)
            self.l4 = torch.nn.Linear(32, 4)

        def forward(self, x):
            h0 = torch.relu(self.l0(x))
            h = torch.relu(self.l3(torch.relu(self.l2(torch.relu(
                self.l1(h0))))))
            return self.l4(h + h0)

    torch.manual_seed(0)
    torch.onnx.export(Mlp(), torch.randn(2, 8), out, input_names=["x"],
                      output_names=["y"], opset_version=17,
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}})
    rng = np.random.default_rng(1)
    folder = out.rsplit("/", 1)[0] if "/" in out else "."
    np.save(f"{folder}/skip-x.npy", rng.standard_normal((4, 8)).astype(np.float32))
    np.save(f"{folder}/skip-y.npy", rng.standard_normal((4, 4)).astype(np.float32))


def slots(path, rank):
    events = json.load(open(path))["traceEvents"]
    mine = [e for e in events
            if e.get("cat") == "pipeline" and e["pid"] == rank]
    for e in sorted(mine, key=lambda e: e["ts"]):
        print(e["name"])


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "data":
        data(sys.argv[2])
    elif cmd == "chunk":
        chunk(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == "same-group":
        same_group(sys.argv[2], int(sys.argv[3]))
    elif cmd == "two-readers":
        two_readers(sys.argv[2], int(sys.argv[3]))
    elif cmd == "skip-model":
        skip_model(sys.argv[2])
    elif cmd == "slots":
        slots(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(f"unknown command {cmd}")
