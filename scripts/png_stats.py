#!/usr/bin/env python3
"""Prints a PNG's size and how many distinct colours it has, with no library
beyond Python's own (8-bit RGB or RGBA, not interlaced, as Chromium writes).

    python3 scripts/png_stats.py FILE.png [MIN_COLOURS]

Exits 1 when the image has fewer than MIN_COLOURS (default 2) distinct colours: a blank page.
"""
import struct
import sys
import zlib

path = sys.argv[1]
minimum = int(sys.argv[2]) if len(sys.argv) > 2 else 2
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit(f"{path}: not a PNG")
pos, idat, width = 8, b"", 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
        if depth != 8 or colour not in (2, 6) or interlace:
            sys.exit(f"{path}: only 8-bit RGB/RGBA, non-interlaced PNGs are read here")
        channels = 3 if colour == 2 else 4
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
raw, stride = zlib.decompress(idat), width * channels
rows, previous, colours = [], bytearray(stride), set()
for y in range(height):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = line[x - channels] if x >= channels else 0
        b, c = previous[x], previous[x - channels] if x >= channels else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if y % 4 == 0:
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, channels * 4))
    previous = line
print(f"{path}: {width}x{height}, {len(colours)} distinct colours (sampled)")
sys.exit(0 if len(colours) >= minimum else 1)
