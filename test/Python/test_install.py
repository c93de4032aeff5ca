#!/usr/bin/python3
"""The installed Python package works on its own: `cmake --install BUILD
--component python` into a temporary prefix puts it where Debian's Python
looks for that prefix, and that copy (not the build tree's) imports from
another folder, compiles the MLP of models/zoo.py and equals PyTorch.

    /usr/bin/python3 test_install.py --build BUILD
"""
import argparse
import os
import subprocess
import sys
import unittest

import common

BUILD = None
OUT = None

SCRIPT = """
import sys, numpy as np, distopt
folder, prefix = sys.argv[1], sys.argv[2]
assert distopt.__file__.startswith(prefix), distopt.__file__
shapes = {"x": [2, 64]}
program = distopt.compile(folder + "/model.onnx", shapes=shapes)
y = program.run({"x": np.load(folder + "/input_0_x.npy")})["y"]
np.testing.assert_allclose(y, np.load(folder + "/output_0_y.npy"),
                           rtol=1e-4, atol=1e-5)
print("installed distopt", distopt.version(), "runs the MLP")
"""


class Install(unittest.TestCase):
    def test_installed_package_runs(self):
        model = common.export_models(OUT, ["mlp"])["mlp"]
        prefix = os.path.join(OUT, "prefix")
        subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix,
                        "--component", "python"], check=True,
                       capture_output=True)
        version = "python%d.%d" % sys.version_info[:2]
        site = os.path.join(prefix, "lib", version, "dist-packages")
        self.assertEqual(sorted(n.split(".")[0] + "." + n.split(".")[-1]
                                for n in os.listdir(os.path.join(site, "distopt"))
                                if not n.startswith("__pycache__")),
                         ["__init__.py", "_distopt.so", "torch.py"])
        env = dict(os.environ, PYTHONPATH=site)
        result = subprocess.run([sys.executable, "-c", SCRIPT, model.folder,
                                 prefix], cwd="/", env=env,
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("runs the MLP", result.stdout)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    args, rest = parser.parse_known_args()
    BUILD = args.build
    OUT = common.output_folder()
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
