#!/usr/bin/python3
"""The Python examples of README.md and docs/python.md run as written.

A block marked `<!-- doc-python: NAME RANKS -->` before its ```python fence
runs in a folder holding `model.onnx` (the MLP of models/zoo.py: input x
[batch, 64], output y), with /usr/bin/python3, under `mpirun -np RANKS`
when RANKS > 1, and must exit 0. A marked block that is no longer found,
or a document with none, fails.

    PYTHONPATH=BUILD/python /usr/bin/python3 test_docs.py
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

import common

DOCS = {"README.md": ["readme-compile"],
        "docs/python.md": ["shortest", "torch"]}
BLOCK = re.compile(r"<!-- doc-python: (\S+) (\d+) -->\n```python\n(.*?)```",
                   re.S)
OUT = None


class Examples(unittest.TestCase):
    def test_examples_run(self):
        model = common.export_models(OUT, ["mlp"])["mlp"]
        for doc, names in DOCS.items():
            with open(os.path.join(common.ROOT, doc)) as f:
                blocks = {m[1]: (int(m[2]), m[3])
                          for m in BLOCK.finditer(f.read())}
            self.assertEqual(sorted(blocks), sorted(names), doc)
            for name, (ranks, code) in blocks.items():
                with self.subTest(doc=doc, example=name):
                    folder = tempfile.mkdtemp(prefix=name + "-", dir=OUT)
                    shutil.copy(model.path, os.path.join(folder, "model.onnx"))
                    with open(os.path.join(folder, "example.py"), "w") as f:
                        f.write(code)
                    command = [sys.executable, "example.py"]
                    if ranks > 1:
                        command = ["mpirun", "--oversubscribe", "-np",
                                   str(ranks), "-x", "PYTHONPATH", *command]
                    result = subprocess.run(command, cwd=folder, text=True,
                                            capture_output=True, timeout=300)
                    self.assertEqual(result.returncode, 0,
                                     result.stdout + result.stderr)


if __name__ == "__main__":
    OUT = common.output_folder()
    unittest.main(verbosity=2)
