#!/usr/bin/env python3
"""Writes pil_golden.json: Pillow's bicubic resize + torchvision's centre crop of formula-defined images.

The C# preprocessing must reproduce these bytes exactly. Run with Debian's Pillow:
  apt-get install python3-pil && /usr/bin/python3 make_pil_golden.py
The input images are defined by the same integer formula in ClipPreprocessorTests.MakeImage.
"""
import json
from PIL import Image

def make_image(w, h):
    img = Image.new("RGB", (w, h))
    px = img.load()
    for y in range(h):
        for x in range(w):
            px[x, y] = ((x * 37 + y * 11) % 256, (x * x + 3 * y) % 256, (255 - x * 5 + y * y) % 256)
    return img

def resize_shorter(img, size):
    w, h = img.size
    if w <= h:
        new_w, new_h = size, int(size * h / w)
    else:
        new_w, new_h = int(size * w / h), size
    return img.resize((new_w, new_h), Image.BICUBIC)

def center_crop(img, size):
    w, h = img.size
    left = int(round((w - size) / 2.0))
    top = int(round((h - size) / 2.0))
    return img.crop((left, top, left + size, top + size))

cases = []
for (w, h, size) in [(60, 40, 16), (41, 67, 16), (10, 7, 16), (33, 33, 16), (600, 400, 24), (16, 40, 16)]:
    out = center_crop(resize_shorter(make_image(w, h), size), size)
    cases.append({"width": w, "height": h, "size": size, "rgb": out.tobytes().hex()})
with open("pil_golden.json", "w") as f:
    json.dump({"pillow": Image.__version__ if hasattr(Image, "__version__") else "", "cases": cases}, f)
