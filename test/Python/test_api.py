#!/usr/bin/python3
"""The distopt package on the test models of models/zoo.py, in one process
(no mpirun): compile and run against PyTorch's outputs, the plan report,
planning without MPI, save and load, ModelProto and cluster-dict inputs, and
the errors a user can make.

    PYTHONPATH=BUILD/python /usr/bin/python3 test_api.py [--out DIR]
"""
import gc
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

import common
import distopt

MODELS = None  # {name: common.TestModel}, set by main()
OUT = None


class CompileAndRun(unittest.TestCase):
    def test_outputs_equal_pytorch(self):
        for name in ("mlp", "gpt2", "bert"):
            with self.subTest(model=name):
                model = MODELS[name]
                program = distopt.compile(model.path, shapes=model.shapes)
                common.assert_outputs_equal(self, program.run(model.inputs),
                                            model.outputs)
                # One device, no cluster, no plan: nothing was planned.
                self.assertIsNone(program.report)
                self.assertIsNone(program.report_text)

    def test_inputs_and_outputs_described(self):
        model = MODELS["gpt2"]
        program = distopt.compile(model.path, shapes=model.shapes)
        self.assertEqual(program.inputs,
                         [("input_ids", np.dtype("int64"), (2, 16))])
        self.assertEqual(program.outputs,
                         [("logits", np.dtype("float32"), (2, 16, 256))])
        self.assertEqual((program.rank, program.world_size), (0, 1))

    def test_runs_again_with_other_values(self):
        model = MODELS["mlp"]
        program = distopt.compile(model.path, shapes=model.shapes)
        first = program.run(model.inputs)["y"]
        second = program.run({"x": 2 * model.inputs["x"]})["y"]
        self.assertFalse(np.allclose(first, second))
        common.assert_outputs_equal(self, program.run(model.inputs),
                                    model.outputs)

    def test_values_given_at_compile_time(self):
        # A Reshape whose shape is a graph input: given as a value (--value),
        # the input becomes a constant, and only x is run.
        import onnx
        from onnx import TensorProto, helper
        graph = helper.make_graph(
            [helper.make_node("Reshape", ["x", "shape"], ["y"])], "reshape",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 8]),
             helper.make_tensor_value_info("shape", TensorProto.INT64, [3])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 6, 2])])
        path = os.path.join(OUT, "reshape_value.onnx")
        onnx.save(helper.make_model(graph, opset_imports=[
            helper.make_opsetid("", 17)]), path)
        shape = os.path.join(OUT, "reshape_value_shape.npy")
        np.save(shape, np.array([4, -1, 2], np.int64))
        program = distopt.compile(path, values={"shape": shape})
        self.assertEqual([name for name, _, _ in program.inputs], ["x"])
        x = np.arange(48, dtype=np.float32).reshape(2, 3, 8)
        np.testing.assert_array_equal(program.run({"x": x})["y"],
                                      x.reshape(4, 6, 2))
        for values, fragment in ((None, "--value shape=FILE"),
                                 ({"not_an_input": shape}, "not_an_input"),
                                 ([shape], "values must be a dict")):
            with self.subTest(values=values):
                with self.assertRaises(distopt.Error) as raised:
                    distopt.compile(path, values=values)
                self.assertIn(fragment, str(raised.exception))

    def test_model_proto(self):
        import onnx
        model = MODELS["mlp"]
        program = distopt.compile(onnx.load(model.path), shapes=model.shapes)
        common.assert_outputs_equal(self, program.run(model.inputs),
                                    model.outputs)
        # Its weights are in a temporary folder that goes with the program;
        # saved, they go beside the artifact and outlive it.
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.dist")
            program.save(path)
            self.assertTrue(os.path.isfile(os.path.join(
                folder, "model.dist.weights", "model.onnx")))
            temporary = os.path.dirname(program._model_file.path)
            del program
            gc.collect()
            self.assertFalse(os.path.exists(temporary))
            loaded = distopt.load(path)
            common.assert_outputs_equal(self, loaded.run(model.inputs),
                                        model.outputs)

    def test_save_then_load(self):
        model = MODELS["gpt2"]
        program = distopt.compile(model.path, shapes=model.shapes)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "gpt2.dist")
            program.save(path)
            loaded = distopt.load(path)
            common.assert_outputs_equal(self, loaded.run(model.inputs),
                                        program.run(model.inputs), rtol=0,
                                        atol=0)
            self.assertIsNone(loaded.report)


def without_timing(report):
    """The report without the planner's own run time, which varies."""
    return {k: v for k, v in report.items() if k != "planning_seconds"}


class Training(unittest.TestCase):
    def test_training_steps(self):
        import onnx
        import onnx.numpy_helper
        model = MODELS["mlp"]
        program = distopt.compile(model.path, shapes=model.shapes,
                                  mode="train", loss="mse", optimizer="sgd",
                                  lr=0.1)
        self.assertEqual([name for name, _, _ in program.inputs],
                         ["x", "target"])
        inputs = {"x": model.inputs["x"],
                  "target": np.zeros_like(model.outputs["y"])}
        losses = [float(program.run(inputs)["loss"]) for _ in range(3)]
        # The first step's loss is the untrained model's, against zeros.
        self.assertAlmostEqual(losses[0],
                               float(np.mean(model.outputs["y"] ** 2)),
                               delta=1e-4 * losses[0])
        self.assertLess(losses[2], losses[1])
        self.assertLess(losses[1], losses[0])
        weights = program.weights()
        initial = {t.name: onnx.numpy_helper.to_array(t)
                   for t in onnx.load(model.path).graph.initializer}
        self.assertEqual(weights["fc1.weight"].shape,
                         initial["fc1.weight"].shape)
        self.assertFalse(np.allclose(weights["fc1.weight"],
                                     initial["fc1.weight"]))


class Planning(unittest.TestCase):
    def test_report_of_two_devices(self):
        model = MODELS["gpt2"]
        program = distopt.compile(model.path, shapes=model.shapes, devices=2)
        report = program.report
        self.assertIsInstance(report, dict)
        # A plan alone may also weigh pipelines, which a compile does not
        # run yet; both choose the same grid here.
        planned = distopt.plan(model.path, shapes=model.shapes, devices=2)
        self.assertEqual(report["grid"], planned["grid"])
        self.assertEqual(report["shardings"], planned["shardings"])
        grid = report["grid"]
        self.assertEqual(grid["dp"] * grid["tp"] * grid["pp"], 2)
        self.assertIn("plan: grid", program.report_text)
        self.assertEqual(program.device_count, 2)

    def test_fixed_plan_is_kept(self):
        model = MODELS["mlp"]
        report = distopt.plan(model.path, shapes=model.shapes, devices=2,
                              cluster=common.SPLIT_FAVORING_CLUSTER,
                              plan="dp=1")
        self.assertEqual((report["grid"]["dp"], report["grid"]["tp"]), (1, 2))
        text = distopt.plan(model.path, shapes=model.shapes, devices=2,
                            cluster=common.SPLIT_FAVORING_CLUSTER,
                            plan="dp=1", text=True)
        self.assertIn("plan: grid dp=1 tp=2", text)

    def test_cluster_dict_equals_cluster_file(self):
        model = MODELS["mlp"]
        from_dict = distopt.plan(model.path, shapes=model.shapes, devices=2,
                                 cluster=common.SPLIT_FAVORING_CLUSTER)
        from_file = distopt.plan(
            model.path, shapes=model.shapes, devices=2,
            cluster=os.path.join(common.ROOT, "test", "Runtime", "Inputs",
                                 "split-favoring-cpu.yaml"))
        self.assertEqual(without_timing(from_dict), without_timing(from_file))

    def test_plan_and_report_start_no_mpi(self):
        # Open MPI loads its components (mca_*.so) in MPI_Init: none may be
        # loaded after compile, report and plan; one run loads them.
        script = (
            "import sys, distopt\n"
            "def mpi(): return '/mca_' in open('/proc/self/maps').read()\n"
            "m, shapes = sys.argv[1], {'x': [2, 64]}\n"
            "distopt.plan(m, shapes=shapes, devices=4)\n"
            "p = distopt.compile(m, shapes=shapes, devices=2)\n"
            "assert p.report and p.report_text\n"
            "before = mpi()\n"
            "q = distopt.compile(m, shapes=shapes)\n"
            "import numpy as np\n"
            "q.run({'x': np.zeros((2, 64), np.float32)})\n"
            "print(before, mpi())\n")
        result = subprocess.run([sys.executable, "-c", script,
                                 MODELS["mlp"].path], capture_output=True,
                                text=True, env=os.environ)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.split(), ["False", "True"])


class Errors(unittest.TestCase):
    def assertError(self, call, *fragments):
        with self.assertRaises(distopt.Error) as raised:
            call()
        message = str(raised.exception)
        for fragment in fragments:
            self.assertIn(fragment, message)
        return raised.exception

    def test_missing_model_file(self):
        error = self.assertError(
            lambda: distopt.compile(os.path.join(OUT, "no-such.onnx")),
            "no-such.onnx")
        self.assertIsInstance(error, Exception)
        self.assertTrue(error.message)

    def test_not_an_onnx_file(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "bad.onnx")
            with open(path, "wb") as f:
                f.write(b"\x0a\xff\xff garbage")
            self.assertError(lambda: distopt.compile(path))

    def test_model_proto_with_external_data(self):
        import onnx
        import onnx.external_data_helper as helper
        proto = onnx.load(MODELS["mlp"].path)
        weight = proto.graph.initializer[0]
        helper.set_external_data(weight, location="weights.bin")
        weight.data_location = onnx.TensorProto.EXTERNAL
        weight.ClearField("raw_data")
        self.assertError(lambda: distopt.compile(proto), "external",
                         weight.name)

    def test_not_a_model(self):
        with self.assertRaises(TypeError):
            distopt.compile(42)

    def test_shape_of_unknown_input(self):
        model = MODELS["mlp"]
        self.assertError(lambda: distopt.compile(
            model.path, shapes={"not_an_input": [2, 64]}), "not_an_input")

    def test_shape_not_integers(self):
        model = MODELS["mlp"]
        self.assertError(lambda: distopt.compile(
            model.path, shapes={"x": ["two", 64]}), "shapes['x']")

    def test_unknown_cluster(self):
        model = MODELS["mlp"]
        self.assertError(lambda: distopt.plan(
            model.path, shapes=model.shapes, cluster="no-such-cluster",
            devices=2), "no-such-cluster")

    def test_bad_cluster_dict(self):
        model = MODELS["mlp"]
        error = self.assertError(lambda: distopt.plan(
            model.path, shapes=model.shapes, devices=2,
            cluster={"name": "x", "device_types": "not a list"}))
        self.assertTrue(error.file.endswith(".json"), error.file)
        self.assertEqual((error.line, error.column), (1, 1))
        self.assertIn("sites", error.message)
        self.assertIn("cluster dict", error.message)

    def test_bad_plan(self):
        model = MODELS["mlp"]
        self.assertError(lambda: distopt.plan(
            model.path, shapes=model.shapes, devices=2, plan="dp=3"))

    def test_run_inputs(self):
        model = MODELS["mlp"]
        program = distopt.compile(model.path, shapes=model.shapes)
        x = model.inputs["x"]
        self.assertError(lambda: program.run({"x": x, "z": x}), "z")
        self.assertError(lambda: program.run({}), "x")
        self.assertError(lambda: program.run({"x": x.astype(np.float64)}))
        self.assertError(lambda: program.run({"x": x[:1]}))
        self.assertError(lambda: program.run({"x": x.astype(np.uint8)}),
                         "uint8")
        self.assertError(lambda: program.run([x]))
        # After every refusal the program still runs.
        common.assert_outputs_equal(self, program.run({"x": x}), model.outputs)

    def test_index_out_of_range(self):
        # A kernel meets the bad token id while it runs: an error, not an
        # exit of the interpreter; the program runs on after it.
        model = MODELS["gpt2"]
        program = distopt.compile(model.path, shapes=model.shapes)
        name = next(n for n, v in model.inputs.items()
                    if v.dtype == np.int64)
        bad = dict(model.inputs)
        bad[name] = bad[name].copy()
        bad[name].flat[3] = 10**9
        error = self.assertError(lambda: program.run(bad),
                                 "is out of range for axis 0")
        self.assertIn("index 1000000000", error.message)
        common.assert_outputs_equal(self, program.run(model.inputs),
                                    model.outputs)

    def test_missing_artifact(self):
        self.assertError(lambda: distopt.load(os.path.join(OUT, "no.dist")),
                         "no.dist")

    def test_corrupt_artifact(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "bad.dist")
            with open(path, "wb") as f:
                f.write(b"not an artifact")
            program = distopt.load(path)
            self.assertError(lambda: program.run({}))

    def test_unknown_keyword(self):
        with self.assertRaises(TypeError):
            distopt.compile(MODELS["mlp"].path, no_such_option=1)


def main():
    global MODELS, OUT
    OUT = common.output_folder()
    MODELS = common.export_models(OUT, ["mlp", "gpt2", "bert"])
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
