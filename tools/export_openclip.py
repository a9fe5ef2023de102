#!/usr/bin/env python3
"""Export an OpenCLIP model's two towers to ONNX in the folder layout VlmRm loads.

Needs PyTorch, open_clip and onnx (pip install torch open_clip_torch onnx), plus, for the options:
  --fp16  onnxconverter-common     --int8  onnxruntime (its quantization tool)

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
Embeddings are exported unnormalized (VlmRm normalizes). Batch size is dynamic. Towers over 2 GB (protobuf's
limit: ViT-H-14, ViT-bigG-14, in fp32, fp16 or int8) are written with ONNX external data, all of a tower's weights
in one file beside it (image.onnx.data, text.onnx.data); model.json lists those files with their sizes and
SHA-256 too, and VlmRm checks every one before loading. Keep the folder's files together.
"""
import argparse
import hashlib
import json
import os
import shutil
import tempfile

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


# Towers larger than this are saved with external data (protobuf refuses messages over 2 GiB).
EXTERNAL_DATA_ABOVE = 1_800_000_000


def folder_bytes(folder):
    return sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))


def save_tower(model, path, external):
    """Writes an onnx.ModelProto to path, its weights inline or, when external, in one path + ".data" file."""
    import onnx
    data = path + ".data"
    if os.path.exists(data):
        os.remove(data)
    if external:
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(data), size_threshold=1024)
    else:
        onnx.save_model(model, path)


def export_tower(module, example, path, input_name, output_name, opset, fp16, int8):
    """torch.onnx.export into a scratch folder (a large export scatters one file per weight there), then
    converted as asked and saved to path with all its weights in one external file when it is over 2 GB."""
    import onnx
    with tempfile.TemporaryDirectory() as scratch:
        exported = os.path.join(scratch, "tower.onnx")
        torch.onnx.export(module, example, exported, input_names=[input_name], output_names=[output_name],
                          dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}}, opset_version=opset)
        external = folder_bytes(scratch) > EXTERNAL_DATA_ABOVE
        model = onnx.load(exported)  # external data, if any, is read back in
        if fp16:
            from onnxconverter_common import float16
            model = float16.convert_float_to_float16(model, keep_io_types=True)
        if int8:
            from onnxruntime.quantization import QuantType, quantize_dynamic
            staged = os.path.join(scratch, "staged.onnx")
            save_tower(model, staged, external)
            quantized = os.path.join(scratch, "quantized.onnx")
            quantize_dynamic(staged, quantized, weight_type=QuantType.QInt8, use_external_data_format=external)
            model = onnx.load(quantized)
            external = external and folder_bytes(scratch) > EXTERNAL_DATA_ABOVE
        save_tower(model, path, external)
    return external


def tower_entry(folder, file, input_name, output_name):
    """model.json's record of a tower: its .onnx and its external data file, each with size and SHA-256."""
    size, sha = file_facts(os.path.join(folder, file))
    entry = {"file": file, "input": input_name, "output": output_name, "bytes": size, "sha256": sha, "data": []}
    data = file + ".data"
    if os.path.exists(os.path.join(folder, data)):
        data_size, data_sha = file_facts(os.path.join(folder, data))
        entry["data"].append({"file": data, "bytes": data_size, "sha256": data_sha})
    return entry


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
        export_tower(ImageTower(model), torch.zeros(1, 3, size, size), image_path, "image", "image_embeds", args.opset, args.fp16, args.int8)
        export_tower(TextTower(model), open_clip.tokenize(["a photo"], context_length=context), text_path, "text", "text_embeds",
                     args.opset, args.fp16, args.int8)

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

    manifest = {
        "name": args.name, "image_size": size, "mean": mean, "std": std,
        "embed_dim": int(image_embeddings.shape[1]),
        "parameters": sum(p.numel() for p in model.parameters()),
        "context_length": context,
        "image": tower_entry(folder, "image.onnx", "image", "image_embeds"),
        "text": tower_entry(folder, "text.onnx", "text", "text_embeds"),
        "tokenizer": "bpe_simple_vocab_16e6.txt.gz",
    }
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"wrote {folder}: {manifest['parameters']:,} parameters, {size}px, {manifest['embed_dim']}-d embeddings")


if __name__ == "__main__":
    main()
