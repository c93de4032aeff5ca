"""The grid labels of an HTML report's scatter do not cover one another:
each label's box (11px sans-serif: 6.2px per character, 12px per line, as
lib/Plan/PlanReportHtml.cpp places them) overlaps no other, and the chosen
grid is labelled. Prints how many grids have a point and how many a label.

usage: check_scatter_labels.py REPORT.html
"""

import html
import re
import sys

page = open(sys.argv[1]).read()
scatter = re.search(r'<svg class="scatter".*?</svg>', page, re.S)
assert scatter, "no scatter"
groups = re.findall(r'<g class="candidate( chosen)?">(.*?)</g>',
                    scatter.group(0), re.S)
boxes = []
chosen_labelled = False
for chosen, body in groups:
    m = re.search(r'<text x="([0-9.]+)" y="([0-9.]+)"[^>]*>(.*?)</text>', body)
    if not m:
        continue
    x, y, text = float(m.group(1)), float(m.group(2)), html.unescape(m.group(3))
    chosen_labelled |= bool(chosen)
    boxes.append((x, y - 10, x + 6.2 * len(text), y + 2, text))
for i, a in enumerate(boxes):
    for b in boxes[i + 1:]:
        overlap = a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
        assert not overlap, f"labels '{a[4]}' and '{b[4]}' overlap"
assert chosen_labelled, "the chosen grid has no label"
print(f"{len(groups)} grids, {len(boxes)} labels, none overlapping")
