#!/usr/bin/env python3
"""Export an OpenCLIP model's two towers to ONNX in the folder layout VlmRm loads.

Needs PyTorch and open_clip (pip install torch open_clip_torch), plus, for the options:
  --fp16  onnx and onnxconverter-common     --int8  onnxruntime (its quantization tool)

  python tools/export_openclip.py ViT-B-32/openai --out models
  python tools/export_openclip.py ViT-bigG-14/laion2b_s39b_b160k --out models --fp16

writes models/<name with / as __>/:
  image.onnx   input "image" [batch, 3, S, S] float32 (OpenCLIP-normalized), output "image_embeds" [batch, D]
  text.onnx    input "text" [batch, 77] int64 (CLIP tokens), output "text_embeds" [batch, D]
  model.json   image size, mean, std, embedding size, parameter count, input/output names,
               and each file's size and SHA-256 (VlmRm refuses a file that does not match)
  reference.json  embeddings PyTorch computed for fixed texts and for images defined by integer
               formulas (the same as VlmRm.Clip.Models.ReferenceImages); VlmRm checks them on load
  bpe_simple_vocab_16e6.txt.gz  the tokenizer file shipped with open_clip
Embeddings are exported unnormalized (VlmRm normalizes). Batch size is dynamic. Towers over 2 GB are
written with ONNX external data (image.onnx.data beside image.onnx): keep those files together.
"""
import argparse
import hashlib
import json
import os
import shutil

import numpy as np
import torch
import open_clip
from PIL import Image

REFERENCE_TEXTS = [
    "a photo of a cat",
    "pole vertically upright on top of the cart",
    "a car at the peak of the mountain, next to the yellow flag",
    "a humanoid robot kneeling",
]
REFERENCE_IMAGES = ["gradient", "checkerboard", "stripes"]


def reference_image(kind, size):
    y, x = np.mgrid[0:size, 0:size]
    if kind == "gradient":
        r, g, b = x * 255 // (size - 1), y * 255 // (size - 1), np.full_like(x, 128)
    elif kind == "checkerboard":
        on = (x // 16 + y // 16) % 2 == 0
        r = g = b = np.where(on, 255, 0)
    elif kind == "stripes":
        on = (x // 8) % 2 == 0
        r, g, b = np.where(on, 220, 40), np.full_like(x, 40), np.where(on, 40, 220)
    else:
        raise ValueError(kind)
    return np.stack([r, g, b], axis=-1).astype(np.uint8)


class ImageTower(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, image):
        return self.model.encode_image(image)


class TextTower(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, text):
        return self.model.encode_text(text)


def file_facts(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return os.path.getsize(path), digest.hexdigest()


def normalize_of(preprocess):
    for t in preprocess.transforms:
        if t.__class__.__name__ == "Normalize":
            return [float(v) for v in t.mean], [float(v) for v in t.std]
    raise RuntimeError("no Normalize in the model's preprocessing")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="OpenCLIP name, architecture/pretrained tag, e.g. ViT-B-32/openai")
    parser.add_argument("--out", default="models", help="models directory (default: models)")
    parser.add_argument("--fp16", action="store_true", help="store weights in fp16 (inputs and outputs stay fp32)")
    parser.add_argument("--int8", action="store_true", help="also quantize MatMul weights to int8 (dynamic quantization)")
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()

    architecture, pretrained = args.name.split("/", 1)
    model, _, preprocess = open_clip.create_model_and_transforms(architecture, pretrained=pretrained)
    model.eval()
    folder = os.path.join(args.out, args.name.replace("/", "__"))
    os.makedirs(folder, exist_ok=True)

    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    context = model.context_length
    mean, std = normalize_of(preprocess)
    image_path, text_path = os.path.join(folder, "image.onnx"), os.path.join(folder, "text.onnx")

    with torch.no_grad():
        torch.onnx.export(ImageTower(model), torch.zeros(1, 3, size, size), image_path,
                          input_names=["image"], output_names=["image_embeds"],
                          dynamic_axes={"image": {0: "batch"}, "image_embeds": {0: "batch"}}, opset_version=args.opset)
        torch.onnx.export(TextTower(model), open_clip.tokenize(["a photo"], context_length=context), text_path,
                          input_names=["text"], output_names=["text_embeds"],
                          dynamic_axes={"text": {0: "batch"}, "text_embeds": {0: "batch"}}, opset_version=args.opset)

    if args.fp16:
        import onnx
        from onnxconverter_common import float16
        for path in (image_path, text_path):
            onnx.save(float16.convert_float_to_float16(onnx.load(path), keep_io_types=True), path)
    if args.int8:
        from onnxruntime.quantization import QuantType, quantize_dynamic
        for path in (image_path, text_path):
            quantized = path + ".int8"
            quantize_dynamic(path, quantized, weight_type=QuantType.QInt8)
            os.replace(quantized, path)

    tokenizer = os.path.join(os.path.dirname(open_clip.__file__), "bpe_simple_vocab_16e6.txt.gz")
    shutil.copy(tokenizer, os.path.join(folder, "bpe_simple_vocab_16e6.txt.gz"))

    with torch.no_grad():
        text_embeddings = model.encode_text(open_clip.tokenize(REFERENCE_TEXTS, context_length=context)).float()
        images = torch.stack([preprocess(Image.fromarray(reference_image(k, size))) for k in REFERENCE_IMAGES])
        image_embeddings = model.encode_image(images).float()
    with open(os.path.join(folder, "reference.json"), "w") as f:
        json.dump({
            "texts": REFERENCE_TEXTS, "text_embeddings": text_embeddings.tolist(),
            "images": REFERENCE_IMAGES, "image_embeddings": image_embeddings.tolist(),
        }, f)

    image_bytes, image_sha = file_facts(image_path)
    text_bytes, text_sha = file_facts(text_path)
    manifest = {
        "name": args.name, "image_size": size, "mean": mean, "std": std,
        "embed_dim": int(image_embeddings.shape[1]),
        "parameters": sum(p.numel() for p in model.parameters()),
        "context_length": context,
        "image": {"file": "image.onnx", "input": "image", "output": "image_embeds", "bytes": image_bytes, "sha256": image_sha},
        "text": {"file": "text.onnx", "input": "text", "output": "text_embeds", "bytes": text_bytes, "sha256": text_sha},
        "tokenizer": "bpe_simple_vocab_16e6.txt.gz",
    }
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {folder}: {manifest['parameters']:,} parameters, {size}px, {manifest['embed_dim']}-d embeddings")


if __name__ == "__main__":
    main()
