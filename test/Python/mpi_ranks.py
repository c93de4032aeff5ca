#!/usr/bin/python3
"""One process of a multi-rank job of the distopt package (test_mpi.py
launches it): compiles a test model for --devices ranks, runs this
process's rank and either writes the outputs (--write, one rank) or checks
that they equal those written (--compare), on every rank.

    mpirun -np N python3 mpi_ranks.py MODEL_DIR --devices N --compare DIR
"""
import argparse
import os
import sys

import numpy as np

import common
import distopt


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--devices", type=int, required=True)
    parser.add_argument("--split-favoring-cluster", action="store_true")
    parser.add_argument("--plan")
    parser.add_argument("--write")
    parser.add_argument("--compare")
    args = parser.parse_args()
    model = common.TestModel(args.model)
    cluster = (common.SPLIT_FAVORING_CLUSTER if args.split_favoring_cluster
               else "cpu")
    program = distopt.compile(model.path, shapes=model.shapes,
                              devices=args.devices, cluster=cluster,
                              plan=args.plan)
    outputs = program.run(model.inputs)
    rank, ranks = program.rank, program.world_size
    if ranks != args.devices:
        print(f"rank {rank}: the job has {ranks} ranks, expected "
              f"{args.devices}")
        return 1
    if args.write:
        # The 1-rank run, which the ranks are compared with, equals PyTorch.
        for name, want in model.outputs.items():
            if name not in outputs or not np.allclose(
                    outputs[name], want, rtol=common.RTOL, atol=common.ATOL):
                print(f"the 1-rank {name} differs from PyTorch's")
                return 1
        for name, value in outputs.items():
            np.save(os.path.join(args.write, name + ".npy"), value)
        return 0
    for name, value in outputs.items():
        want = np.load(os.path.join(args.compare, name + ".npy"))
        if value.shape != want.shape or value.dtype != want.dtype or \
                not np.allclose(value, want, rtol=1e-5, atol=1e-6):
            print(f"rank {rank}/{ranks}: {name} differs from the 1-rank run")
            return 1
    if sorted(outputs) != sorted(model.outputs):
        print(f"rank {rank}/{ranks}: outputs {sorted(outputs)}")
        return 1
    grid = program.report["grid"]
    print(f"rank {rank}/{ranks}: equal to the 1-rank run "
          f"(dp={grid['dp']} tp={grid['tp']} pp={grid['pp']})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
