"""Shared by the distopt package's tests: the test models and a cluster.

The models are exported from models/zoo.py by models/export.py (Debian's
PyTorch) into a folder of the test's own, with their inputs and PyTorch's
reference outputs.
"""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
RTOL, ATOL = 1e-4, 1e-5

# test/Runtime/Inputs/split-favoring-cpu.yaml as a dict: slow arithmetic and
# fast links, so that plans split ops even for the tiny test models.
SPLIT_FAVORING_CLUSTER = {
    "name": "split-favoring-cpu",
    "device_types": [{"name": "slow-core", "peak_tflops": 0.000001,
                      "memory_gib": 16, "memory_bandwidth": 0.001,
                      "op_overhead_us": 0}],
    "sites": [{"name": "here", "nodes": [{
        "name": "host", "device": "slow-core", "devices_per_node": 4,
        "intra_node": {"bandwidth": 1000, "latency": 0},
        "inter_node": {"bandwidth": 1000, "latency": 0}}]}],
}


def output_folder():
    """$DISTOPT_TEST_OUT (ctest sets it; kept), else a temporary folder
    removed at exit."""
    folder = os.environ.get("DISTOPT_TEST_OUT")
    if folder:
        os.makedirs(folder, exist_ok=True)
        return folder
    folder = tempfile.mkdtemp(prefix="distopt-test-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


class TestModel:
    """One exported model: its file, inputs and reference outputs."""

    def __init__(self, folder):
        self.folder = folder
        with open(os.path.join(folder, "meta.json")) as f:
            meta = json.load(f)
        self.path = os.path.join(folder, meta["file"])
        self.shapes = {i["name"]: i["shape"] for i in meta["inputs"]}
        self.inputs = {i["name"]: np.load(os.path.join(folder, i["file"]))
                       for i in meta["inputs"]}
        self.outputs = {o["name"]: np.load(os.path.join(folder, o["file"]))
                        for o in meta["outputs"]}


def export_models(out, names, opset=17):
    """Exports models/zoo.py's `names` at `opset` into `out` (once) and
    returns {name: TestModel}."""
    missing = [n for n in names
               if not os.path.exists(os.path.join(out, n, f"opset{opset}",
                                                  "meta.json"))]
    if missing:
        subprocess.run([sys.executable, os.path.join(ROOT, "models", "export.py"),
                        "--out", out, "--models", ",".join(missing),
                        "--opsets", str(opset), "-q"], check=True)
    return {n: TestModel(os.path.join(out, n, f"opset{opset}")) for n in names}


def assert_outputs_equal(test, got, want, rtol=RTOL, atol=ATOL):
    """Every output of `want` is in `got` with its dtype and shape, and close."""
    test.assertEqual(sorted(got), sorted(want))
    for name, expected in want.items():
        actual = got[name]
        test.assertIsInstance(actual, np.ndarray, name)
        test.assertEqual(actual.dtype, expected.dtype, name)
        test.assertEqual(actual.shape, expected.shape, name)
        np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol,
                                   err_msg=name)
