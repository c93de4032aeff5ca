#!/usr/bin/python3
"""distopt.torch.parallelize on modules defined here: its call equals the
module's; distopt.torch.train_step: its losses and trained weights equal
torch.optim's from the same weights. Run directly, the plans have one
device; under `mpirun -np 2`,
every rank checks plans for two devices: data parallel on the `cpu` preset,
tensor parallel (dp=1) on a cluster where splitting pays, and a two-stage
pipeline (pp=2).

    PYTHONPATH=BUILD/python /usr/bin/python3 test_torch.py
    mpirun -np 2 env PYTHONPATH=BUILD/python /usr/bin/python3 test_torch.py
"""
import copy
import os
import unittest

import torch

import common
import distopt
import distopt.torch

RANKS = int(os.environ.get("OMPI_COMM_WORLD_SIZE", "1"))


class MLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(32, 64)
        self.fc2 = torch.nn.Linear(64, 16)

    def forward(self, x):
        return self.fc2(torch.nn.functional.gelu(self.fc1(x)))


class Block(torch.nn.Module):
    """A pre-LN transformer block: self-attention and an MLP, residuals."""

    def __init__(self, width=32, heads=4):
        super().__init__()
        self.heads = heads
        self.ln1 = torch.nn.LayerNorm(width)
        self.qkv = torch.nn.Linear(width, 3 * width)
        self.proj = torch.nn.Linear(width, width)
        self.ln2 = torch.nn.LayerNorm(width)
        self.up = torch.nn.Linear(width, 4 * width)
        self.down = torch.nn.Linear(4 * width, width)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).chunk(3, dim=2)
        q, k, v = (y.reshape(b, t, self.heads, c // self.heads).transpose(1, 2)
                   for y in (q, k, v))
        scores = (q @ k.transpose(2, 3)) / (c // self.heads) ** 0.5
        attention = torch.softmax(scores, dim=-1) @ v
        x = x + self.proj(attention.transpose(1, 2).reshape(b, t, c))
        return x + self.down(torch.nn.functional.gelu(self.up(self.ln2(x))))


class TwoOutputs(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(8, 8)

    def forward(self, x, y):
        h = self.fc(x)
        return h + y, torch.relu(h).sum(dim=1)


def plans():
    """(name, keywords of parallelize) for this job's number of ranks."""
    if RANKS == 1:
        return [("one device", {})]
    return [("cpu preset", {"devices": RANKS}),
            ("tensor parallel", {"devices": RANKS, "plan": "dp=1",
                                 "cluster": common.SPLIT_FAVORING_CLUSTER}),
            ("pipeline", {"devices": RANKS, "plan": f"pp={RANKS}"})]


class Parallelize(unittest.TestCase):
    def check(self, module, inputs, require_split=False):
        module.eval()
        with torch.no_grad():
            want = module(*inputs)
        for name, options in plans():
            with self.subTest(plan=name):
                parallel = distopt.torch.parallelize(module, inputs, **options)
                got = parallel(*inputs)
                self.assertEqual(type(got), type(want))
                for g, w in zip(*((got, want) if isinstance(want, tuple)
                                  else ((got,), (want,)))):
                    self.assertIsInstance(g, torch.Tensor)
                    self.assertEqual(g.dtype, w.dtype)
                    self.assertEqual(g.shape, w.shape)
                    torch.testing.assert_close(g, w, rtol=common.RTOL,
                                               atol=common.ATOL)
                if RANKS > 1:
                    grid = parallel.report["grid"]
                    self.assertEqual(grid["dp"] * grid["tp"] * grid["pp"],
                                     RANKS)
                    if "cluster" in options:
                        self.assertEqual(grid["tp"], RANKS)
                    elif "plan" in options:
                        self.assertEqual(grid["pp"], RANKS)

    def test_mlp(self):
        torch.manual_seed(0)
        self.check(MLP(), (torch.randn(4, 32),))

    def test_transformer_block(self):
        torch.manual_seed(1)
        self.check(Block(), (torch.randn(4, 8, 32),))

    def test_two_inputs_two_outputs(self):
        torch.manual_seed(2)
        self.check(TwoOutputs(), (torch.randn(4, 8), torch.randn(4, 8)))

    def test_other_values_same_shape(self):
        torch.manual_seed(3)
        module = MLP().eval()
        parallel = distopt.torch.parallelize(module, (torch.randn(4, 32),),
                                             **plans()[-1][1])
        x = torch.randn(4, 32)
        with torch.no_grad():
            torch.testing.assert_close(parallel(x), module(x),
                                       rtol=common.RTOL, atol=common.ATOL)
        with self.assertRaises(distopt.Error):
            parallel(torch.randn(5, 32))
        with self.assertRaises(distopt.Error):
            parallel(x, x)


class Classifier(torch.nn.Module):
    """A transformer block over 8 positions, then a linear head of 10
    classes per position."""

    def __init__(self):
        super().__init__()
        self.block = Block()
        # No key bias: its gradient is zero in exact arithmetic, so it gets
        # rounding noise, which AdamW turns into steps of about lr in either
        # direction (models/training/models.py, drop_bias).
        self.block.qkv = torch.nn.Linear(32, 96, bias=False)
        self.head = torch.nn.Linear(32, 10)

    def forward(self, x):
        return self.head(self.block(x))


class TrainStep(unittest.TestCase):
    def check(self, module, x, labels, loss, optimizer, reference, steps=4,
              **options):
        for name, plan in plans():
            with self.subTest(plan=name):
                torch_module = copy.deepcopy(module)
                torch_optimizer = reference(torch_module.parameters())
                step = distopt.torch.train_step(module, (x,), labels,
                                                loss=loss,
                                                optimizer=optimizer,
                                                **options, **plan)
                for k in range(steps):
                    torch_optimizer.zero_grad()
                    output = torch_module(x)
                    want = (torch.nn.functional.cross_entropy(
                        output.reshape(-1, output.shape[-1]),
                        labels.reshape(-1))
                        if loss == "cross-entropy" else
                        torch.nn.functional.mse_loss(output, labels))
                    want.backward()
                    torch_optimizer.step()
                    got = step(x, labels=labels)
                    self.assertAlmostEqual(got, want.item(),
                                           delta=1e-5 * abs(want.item()),
                                           msg=f"step {k + 1}")
                # The trained weights, back in a module.
                copied = copy.deepcopy(module)
                step.copy_to(copied)
                for (name, got), (_, want) in zip(
                        copied.named_parameters(),
                        torch_module.named_parameters()):
                    torch.testing.assert_close(got, want, rtol=1e-4,
                                               atol=1e-5, msg=name)
                if RANKS > 1:
                    grid = step.report["grid"]
                    self.assertEqual(grid["dp"] * grid["tp"] * grid["pp"],
                                     RANKS)

    def test_cross_entropy_adamw(self):
        torch.manual_seed(4)
        module = Classifier()
        x = torch.randn(4, 8, 32)
        labels = torch.randint(0, 10, (4, 8))
        self.check(module, x, labels, "cross-entropy", "adamw",
                   lambda p: torch.optim.AdamW(p, lr=1e-2), lr=1e-2)

    def test_mse_sgd_momentum(self):
        torch.manual_seed(5)
        module = MLP()
        x = torch.randn(4, 32)
        labels = torch.randn(4, 16)
        self.check(module, x, labels, "mse", "sgd",
                   lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
                   lr=0.05, momentum=0.9)

    def test_bad_use(self):
        module = MLP()
        x = torch.randn(4, 32)
        with self.assertRaises(distopt.Error):
            distopt.torch.train_step(module, (x,), torch.randn(4, 16),
                                     loss="hinge")
        step = distopt.torch.train_step(module, (x,), torch.randn(4, 16),
                                        loss="mse", **plans()[-1][1])
        with self.assertRaises(distopt.Error):
            step(x, labels=torch.randn(4, 15))
        with self.assertRaises(TypeError):
            step(x)


if __name__ == "__main__":
    unittest.main(verbosity=2 if RANKS == 1 else 1)
