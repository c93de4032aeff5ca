#!/usr/bin/python3
"""The distopt package under mpirun: a test model compiled and run by
`mpirun -np 2` and `-np 4` Python processes (mpi_ranks.py) gives, on every
rank, the outputs of the 1-rank run in a plain Python process.

    PYTHONPATH=BUILD/python /usr/bin/python3 test_mpi.py
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

import common

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "mpi_ranks.py")
OUT = None


def mpirun(ranks, args):
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1",
               OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    command = ["mpirun", "--oversubscribe", "-np", str(ranks),
               "-x", "PYTHONPATH", sys.executable, SCRIPT, *args]
    return subprocess.run(command, capture_output=True, text=True, env=env,
                          timeout=300)


class Ranks(unittest.TestCase):
    def check(self, name, ranks, split=False, plan=None):
        model = common.export_models(OUT, [name])[name]
        reference = tempfile.mkdtemp(prefix=f"ref-{name}-", dir=OUT)
        flags = ["--split-favoring-cluster"] if split else []
        if plan:
            flags += ["--plan", plan]
        # Without mpirun: MPI starts as a singleton in the Python process.
        single = subprocess.run([sys.executable, SCRIPT, model.folder,
                                 "--devices", "1", "--write", reference],
                                capture_output=True, text=True)
        self.assertEqual(single.returncode, 0, single.stdout + single.stderr)
        result = mpirun(ranks, [model.folder, "--devices", str(ranks),
                                "--compare", reference, *flags])
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        # mpirun forwards the ranks' output in pieces that may interleave.
        found = sorted(re.findall(r"rank (\d+)/(\d+): equal to the 1-rank "
                                  r"run \((dp=\d+ tp=(\d+) pp=\d+)\)",
                                  result.stdout))
        self.assertEqual([(int(r), int(n)) for r, n, _, _ in found],
                         [(r, ranks) for r in range(ranks)],
                         result.stdout + result.stderr)
        # Every rank ran the same plan; on the split-favouring cluster it
        # splits ops (tp > 1), so that collectives of tensor parallelism ran.
        self.assertEqual(len({grid for _, _, grid, _ in found}), 1, found)
        if split:
            self.assertGreater(int(found[0][3]), 1, found)
        if plan:
            self.assertIn(plan.replace(",", " "), found[0][2])

    def test_gpt2_two_ranks(self):
        self.check("gpt2", 2, split=False)

    def test_gpt2_four_ranks_tensor_parallel(self):
        self.check("gpt2", 4, split=True)

    def test_gpt2_two_stage_pipeline(self):
        self.check("gpt2", 2, plan="pp=2")


if __name__ == "__main__":
    OUT = common.output_folder()
    unittest.main(verbosity=2)
