#!/usr/bin/python3
"""Compares the collectives a plan report prices (kind and count, from
dist-opt --report-json) with the shard collectives of the compiled artifact.
Prints one line per kind and exits 1 when they differ.

    priced_vs_emitted.py REPORT.json ARTIFACT
"""
import collections
import json
import re
import sys

report, artifact = sys.argv[1], sys.argv[2]
priced = collections.Counter()
for c in json.load(open(report))["collectives"]:
    priced[c["kind"]] += c["count"]
text = open(artifact, "rb").read().decode("utf-8", "replace")
emitted = collections.Counter(
    k.replace("_", "-") for k in re.findall(
        r"shard\.(all_reduce|all_gather|reduce_scatter|all_to_all)\b", text))
for kind in sorted(set(priced) | set(emitted)):
    print(f"{kind}: priced {priced[kind]} emitted {emitted[kind]}")
sys.exit(0 if priced == emitted else 1)
