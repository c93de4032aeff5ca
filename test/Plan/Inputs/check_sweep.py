#!/usr/bin/python3
"""Recomputes the figures of a `dist-opt --sweep --report-json` file.

    check_sweep.py SWEEP.json TOKENS_PER_SAMPLE TARGET_TOKENS CLUSTER=PRICE...

PRICE is the cluster's USD per device-hour. For every row with a plan:
cost per step = step time x devices x price / 3600; tokens/s = samples/s x
tokens per sample; the time for the target = ceil(target / tokens per step)
steps; its cost likewise. Each cluster has one chosen row: the fewest
devices within 1% of the least step time. Prints, per cluster, the chosen
count and how the most devices compare with it; exits 1 on a mismatch.
"""
import json
import math
import sys


def close(a, b):
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def check_row(row, price, tokens_per_sample, target):
    devices = row["devices"]
    assert close(row["price_per_hour"], devices * price), row
    step = row["step_seconds"]
    assert close(row["cost_per_step"], step * devices * price / 3600), row
    assert close(row["samples_per_second"], row["global_batch"] / step), row
    assert close(row["tokens_per_second"],
                 row["samples_per_second"] * tokens_per_sample), row
    steps = math.ceil(target / (row["global_batch"] * tokens_per_sample))
    assert close(row["target_seconds"], steps * step), row
    assert close(row["target_cost"],
                 steps * step * devices * price / 3600), row


def main():
    sweep = json.load(open(sys.argv[1]))
    tokens_per_sample, target = float(sys.argv[2]), float(sys.argv[3])
    prices = dict(arg.split("=") for arg in sys.argv[4:])
    for cluster, price in prices.items():
        rows = [r for r in sweep["rows"] if r["cluster"] == cluster]
        planned = [r for r in rows if r["has_plan"]]
        for row in planned:
            check_row(row, float(price), tokens_per_sample, target)
        least = min(r["step_seconds"] for r in planned)
        expected = min(r["devices"] for r in planned
                       if r["step_seconds"] <= least * 1.01)
        chosen = [r for r in rows if r["chosen"]]
        assert [r["devices"] for r in chosen] == [expected], (chosen, expected)
        most = max(planned, key=lambda r: r["devices"])
        ratio = most["step_seconds"] / chosen[0]["step_seconds"]
        print(f"{cluster.split('/')[-1]}: chose {expected} of "
              f"{','.join(str(r['devices']) for r in rows)}; "
              f"{most['devices']} devices are "
              f"{ratio if ratio >= 1 else 1 / ratio:.2f}x "
              f"{'slower' if ratio >= 1 else 'faster'}")
    print(len(sweep["rows"]), "rows checked")


if __name__ == "__main__":
    main()
