#!/usr/bin/python3
"""Checks a screenshot of the HTML plan report (test/Plan/report-html.test).

    check_report_png.py SHOT.png '#1f77b4' '#ff7f0e' ...

Reads the PNG with zlib alone (8-bit RGB or RGBA, not interlaced, the way
chromium writes screenshots), and fails unless the picture is not blank
(more than 5% of it is not the white background, in more than 20 colours)
and every colour given covers at least 500 pixels (within 3 of each channel:
the boxes and bars the report draws in it). Prints the size and each
colour's pixel count.
"""

import struct
import sys
import zlib


def read_png(path):
    """Width, height and rows of (r, g, b) tuples of an 8-bit RGB(A) PNG."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color not in (2, 6) or interlace:
        sys.exit(f"{path}: PNG of depth {depth}, colour type {color}, "
                 f"interlace {interlace}; expected 8-bit RGB(A)")
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b = previous[i]
            c = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        rows.append(line)
        previous = line
    return width, height, rows, channels


def main():
    path, colors = sys.argv[1], sys.argv[2:]
    width, height, rows, channels = read_png(path)
    counts = {}
    for line in rows:
        for x in range(0, len(line), channels):
            rgb = bytes(line[x:x + 3])
            counts[rgb] = counts.get(rgb, 0) + 1
    total = width * height
    white = counts.get(b"\xff\xff\xff", 0)
    if total - white < 0.05 * total or len(counts) <= 20:
        sys.exit(f"{path}: blank: {total - white} of {total} pixels not "
                 f"white, {len(counts)} colours")
    print(f"{width}x{height}, {len(counts)} colours")
    for color in colors:
        want = bytes.fromhex(color.lstrip("#"))
        found = sum(n for rgb, n in counts.items()
                    if all(abs(rgb[i] - want[i]) <= 3 for i in range(3)))
        print(f"{color}: {'ok' if found >= 500 else 'MISSING'} ({found} "
              f"pixels)")
        if found < 500:
            sys.exit(f"{path}: colour {color} covers {found} pixels, "
                     f"fewer than 500")


if __name__ == "__main__":
    main()
