#!/usr/bin/env python3
"""Image-tower throughput of the paper's CLIP sizes on one GPU, for sizing runs and sweeps (docs/BENCHMARKS.md).

No CLIP weights are needed: throughput depends on the architecture, not on the values of the weights, so each
OpenCLIP image tower is built with timm's matching architecture and random weights. Needs PyTorch with CUDA and timm.

  python3 tools/gpu_tower_throughput.py [--batch 256] [--models RN50,ViT-B-32,...] [--json out.json]

For each tower it prints GFLOP per image (counted by torch.utils.flop_counter on the real graph), images/s and
TFLOP/s in bf16 at the given batch, the fraction of the bf16 matrix rate measured in the same run, and the GPU-hours
the paper's Humanoid run (10M frames, appendix C.2) spends in the image tower at that rate. It also times Eq. 2-3 on
stored embeddings (1M x 1280 fp16, ViT-bigG-14's width) against a device-to-device copy of the same bytes: the cost
of re-rewarding a run from its embeddings instead of re-labelling its frames.
"""
import argparse
import json
import time

import torch
import timm
from torch.utils.flop_counter import FlopCounterMode

# OpenCLIP name -> timm architecture with the same image tower (widths, depths, patch size, image size).
TOWERS = {
    "RN50": "resnet50_clip.openai",
    "ViT-B-32": "vit_base_patch32_clip_224",
    "ViT-B-16": "vit_base_patch16_clip_224",
    "ViT-L-14": "vit_large_patch14_clip_224",
    "ViT-H-14": "vit_huge_patch14_clip_224",
    "ViT-bigG-14": "vit_gigantic_patch14_clip_224",  # timm's name for OpenCLIP's bigG (width 1664, depth 48)
}
PAPER_HUMANOID_FRAMES = 10_000_000


def timed(fn, warmup=3, repeats=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(repeats):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1000 / repeats


def matmul_ceiling():
    n = 8192
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    seconds = timed(lambda: a @ b)
    return 2 * n ** 3 / seconds / 1e12


def copy_ceiling():
    src = torch.randn(1 << 30, device="cuda", dtype=torch.float16)  # 2 GiB
    dst = torch.empty_like(src)
    seconds = timed(lambda: dst.copy_(src))
    return 2 * src.numel() * 2 / seconds / 1e9


def tower(name, arch):
    with torch.device("cuda"):
        model = timm.create_model(arch, pretrained=False, num_classes=0)
    size = model.pretrained_cfg.get("input_size", (3, 224, 224))[-1]
    return model.eval(), size


def measure(name, arch, batch, matmul_tflops):
    model, size = tower(name, arch)
    params = sum(p.numel() for p in model.parameters())
    probe = torch.randn(4, 3, size, size, device="cuda")
    with torch.no_grad():
        reference = model.double()(probe.double()).float()
        model = model.to(torch.bfloat16).to(memory_format=torch.channels_last)
        low = model(probe.to(torch.bfloat16).contiguous(memory_format=torch.channels_last)).float()
    relative_error = ((low - reference).norm() / reference.norm()).item()
    if not torch.isfinite(low).all():
        raise RuntimeError(f"{name}: non-finite bf16 output")

    images = torch.randn(batch, 3, size, size, device="cuda", dtype=torch.bfloat16).contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        with FlopCounterMode(display=False) as counter:
            model(images[:1])
        flops_per_image = counter.get_total_flops()
        seconds = timed(lambda: model(images))
    images_per_second = batch / seconds
    tflops = flops_per_image * images_per_second / 1e12
    row = {
        "model": name, "timm_architecture": arch, "image_size": size, "parameters": params,
        "gflop_per_image": flops_per_image / 1e9, "batch": batch, "images_per_s": images_per_second,
        "tflop_per_s": tflops, "fraction_of_bf16_matmul": tflops / matmul_tflops,
        "bf16_relative_error_vs_fp64": relative_error,
        "paper_humanoid_gpu_hours": PAPER_HUMANOID_FRAMES / images_per_second / 3600,
        "peak_memory_gib": torch.cuda.max_memory_allocated() / 2 ** 30,
    }
    del model, images
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    return row


def rereward(copy_gbps):
    """Eq. 2-3 on stored embeddings, one reward per transition.

    With P = a dd^T + (1 - a) I (d the unit goal-baseline direction) and v = x/|x| - g, |vP|^2 =
    (2a - a^2)(v.d)^2 + (1 - a)^2 |v|^2, so each row needs only x.g, x.d and |x|^2: one pass over the stored bytes.
    Checked against the explicit projection on the first rows.
    """
    count, width, alpha = 1_000_000, 1280, 0.5
    embeddings = torch.randn(count, width, device="cuda", dtype=torch.float16)
    goal = torch.nn.functional.normalize(torch.randn(width, device="cuda"), dim=0)
    baseline = torch.nn.functional.normalize(torch.randn(width, device="cuda"), dim=0)
    direction = torch.nn.functional.normalize(goal - baseline, dim=0)
    columns = torch.stack([goal, direction], dim=1).half()
    g_dot_d = (goal @ direction).item()

    def rewards():
        dots = (embeddings @ columns).float()
        norms = torch.linalg.vector_norm(embeddings, dim=1, dtype=torch.float32)
        x_g, x_d = dots[:, 0] / norms, dots[:, 1] / norms
        v_d = x_d - g_dot_d
        v_v = 2 - 2 * x_g
        return 1 - 0.5 * ((2 * alpha - alpha ** 2) * v_d ** 2 + (1 - alpha) ** 2 * v_v)

    fast = rewards()
    x = torch.nn.functional.normalize(embeddings[:1000].double(), dim=1)
    projection = alpha * torch.outer(direction, direction).double() + (1 - alpha) * torch.eye(width, device="cuda", dtype=torch.float64)
    explicit = 1 - 0.5 * (((x - goal.double()) @ projection) ** 2).sum(dim=1)
    error = ((fast[:1000].double() - explicit).abs().max()).item()
    seconds = timed(rewards)
    stored_bytes = count * width * 2
    return {"transitions": count, "width": width, "alpha": alpha, "seconds": seconds, "max_abs_error": error,
            "effective_read_gbps": stored_bytes / seconds / 1e9, "copy_gbps": copy_gbps}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--models", default=",".join(TOWERS))
    parser.add_argument("--json")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("gpu_tower_throughput: no CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    started = time.time()
    report = {"device": torch.cuda.get_device_name(), "torch": torch.__version__, "timm": timm.__version__}
    report["bf16_matmul_tflops"] = matmul_ceiling()
    report["copy_gbps"] = copy_ceiling()
    print(f"{report['device']}: bf16 8192^3 matmul {report['bf16_matmul_tflops']:.0f} TFLOP/s, "
          f"device copy {report['copy_gbps']:.0f} GB/s (read + write)", flush=True)
    report["towers"] = []
    for name in args.models.split(","):
        try:
            row = measure(name, TOWERS[name], args.batch, report["bf16_matmul_tflops"])
        except Exception as error:  # an architecture missing from this timm: say so, measure the others
            print(f"{name}: not measured ({type(error).__name__}: {error})", flush=True)
            torch.cuda.empty_cache()
            continue
        report["towers"].append(row)
        print(f"{name:12s} {row['parameters'] / 1e6:8.1f}M params {row['gflop_per_image']:8.1f} GFLOP/img "
              f"{row['images_per_s']:9.0f} img/s {row['tflop_per_s']:6.0f} TFLOP/s "
              f"({row['fraction_of_bf16_matmul']:.2f}x matmul) bf16 err {row['bf16_relative_error_vs_fp64']:.1e} "
              f"paper Humanoid run {row['paper_humanoid_gpu_hours']:.2f} GPU-h", flush=True)
    report["rereward"] = rereward(report["copy_gbps"])
    r = report["rereward"]
    print(f"re-reward {r['transitions']:,} x {r['width']} fp16 embeddings: {r['seconds'] * 1e3:.1f} ms "
          f"({r['effective_read_gbps']:.0f} GB/s of stored embeddings read; max error {r['max_abs_error']:.1e})", flush=True)
    report["wall_seconds"] = time.time() - started
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
