"""Kodak evaluation of a checkpoint from Python, with JPEG (cjpeg/djpeg) measured side by side.

    python3 train/eval.py --checkpoint train/checkpoints/aara.pt --kodak ../shared/datasets/kodak \
        [--levels 0,1,2] [--results train/RESULTS.md] [--json train/logs/eval.json]

bpp of aara here is the model's estimated rate (−Σ log₂ p of the quantised latents) plus the fixed
container overhead of a real file; real files are measured by `node dist/cli.js eval`. PSNR is on the
8-bit RGB reconstruction clamp(round(255·x̂)); MS-SSIM is 5-scale with the Wang weights on RGB.
JPEG: libjpeg-turbo's cjpeg at qualities 5…95 (4:2:0, optimized Huffman), bpp from the real file size.
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from formats import container_overhead_bytes  # noqa: E402
from model import LAMBDAS, load_checkpoint, ms_ssim, pad_to_stride  # noqa: E402

METHOD = ("Written by `train/eval.py`. bpp of aara is the model's estimated rate (−Σ log₂ p of the quantised "
          "latents) plus the fixed header of a real .aara file; real files are measured by `node dist/cli.js eval` "
          "(bench/RESULTS.md). PSNR on the 8-bit RGB reconstruction clamp(round(255·x̂)), MS-SSIM 5-scale (Wang "
          "weights) on RGB, averaged over the images. JPEG: libjpeg-turbo cjpeg -optimize (4:2:0), real file sizes; "
          "its PSNR at aara's bpp is interpolated linearly in log(bpp).")
JPEG_QUALITIES = [1, 3, 5, 10, 15, 20, 25, 30, 40, 50, 60, 70, 80, 90, 95]


def metrics(original, decoded):
    """original, decoded: HWC uint8 → (PSNR dB, MS-SSIM)."""
    mse = np.mean((original.astype(np.float64) - decoded.astype(np.float64)) ** 2)
    psnr = 10 * math.log10(255 ** 2 / mse) if mse > 0 else float("inf")
    a = torch.from_numpy(original.astype(np.float32)).permute(2, 0, 1)[None] / 255
    b = torch.from_numpy(decoded.astype(np.float32)).permute(2, 0, 1)[None] / 255
    return psnr, float(ms_ssim(a, b)[0])


def eval_aara(model, images, levels, overhead):
    rows = {q: [] for q in levels}
    for name, img in images:
        h, w = img.shape[:2]
        x = pad_to_stride(torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float() / 255)
        for q in levels:
            out = model.compress_symbols(x, q)
            rec = torch.round(255 * out["x_hat"][0, :, :h, :w]).clamp(0, 255).byte().permute(1, 2, 0).numpy()
            psnr, msssim = metrics(img, rec)
            bpp = (out["bits"] + 8 * overhead) / (h * w)
            rows[q].append(dict(image=name, bpp=bpp, psnr=psnr, ms_ssim=msssim,
                                **{f"bpp_{k}": out[f"bits_{k}"] / (h * w) for k in "wyz"}))
        print(f"  aara {name} done", flush=True)
    return rows


def eval_jpeg(images, qualities):
    rows = {q: [] for q in qualities}
    with tempfile.TemporaryDirectory() as tmp:
        for name, img in images:
            src = os.path.join(tmp, "in.ppm")
            Image.fromarray(img).save(src)
            for q in qualities:
                jpg = os.path.join(tmp, "out.jpg")
                subprocess.run(["cjpeg", "-quality", str(q), "-optimize", "-outfile", jpg, src], check=True, stderr=subprocess.DEVNULL)
                dec = os.path.join(tmp, "dec.ppm")
                subprocess.run(["djpeg", "-ppm", "-outfile", dec, jpg], check=True)
                rec = np.asarray(Image.open(dec).convert("RGB"))
                psnr, msssim = metrics(img, rec)
                rows[q].append(dict(image=name, bpp=8 * os.path.getsize(jpg) / (img.shape[0] * img.shape[1]),
                                    psnr=psnr, ms_ssim=msssim))
    return rows


def average(rows):
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0] if k != "image"}


def interpolate(curve, bpp):
    """PSNR of a (bpp, psnr) curve at `bpp`, linear in log(bpp); None outside its span."""
    pts = sorted(curve)
    for (b0, p0), (b1, p1) in zip(pts, pts[1:]):
        if b0 <= bpp <= b1:
            t = (math.log(bpp) - math.log(b0)) / (math.log(b1) - math.log(b0))
            return p0 + t * (p1 - p0)
    return None


KEEP_MARKER = "<!-- eval.py rewrites what is above this line and keeps what is below -->"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--kodak", required=True, help="folder with kodim01.png … kodim24.png")
    ap.add_argument("--levels", help="comma-separated levels (default: all)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N images (quick checks)")
    ap.add_argument("--no-jpeg", action="store_true")
    ap.add_argument("--results", help="write this markdown file (train/RESULTS.md)")
    ap.add_argument("--json", help="write per-image results as JSON")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    paths = sorted(glob.glob(os.path.join(args.kodak, "kodim*.png")))
    if not paths:
        sys.exit(f"eval.py: no kodim*.png in {args.kodak}")
    if args.limit:
        paths = paths[:args.limit]
    images = [(os.path.basename(p), np.asarray(Image.open(p).convert("RGB"))) for p in paths]
    if not os.path.exists(args.checkpoint):
        sys.exit(f"eval.py: checkpoint not found: {args.checkpoint}")
    model, ck = load_checkpoint(args.checkpoint)
    levels = [int(v) for v in args.levels.split(",")] if args.levels else list(range(model.config["levels"]))

    started = time.time()
    aara = eval_aara(model, images, levels, container_overhead_bytes(model.config))
    jpeg = {} if args.no_jpeg else eval_jpeg(images, JPEG_QUALITIES)
    aara_avg = {q: average(r) for q, r in aara.items()}
    jpeg_avg = {q: average(r) for q, r in jpeg.items()}
    jpeg_curve = [(v["bpp"], v["psnr"]) for v in jpeg_avg.values()]

    lines = [f"Kodak ({len(images)} images), checkpoint step {ck['step']}, {ck['hours']:.2f} h of training; "
             f"eval took {time.time() - started:.0f} s.", "",
             f"Model kind: {model.kind}. Bits per latent (bpp of ŵ / ŷ / ẑ) are the estimated rates of each.", "",
             "| level | λ | bpp (estimated) | ŵ / ŷ / ẑ bpp | PSNR dB | MS-SSIM | JPEG PSNR at same bpp | Δ PSNR |",
             "|---|---|---|---|---|---|---|---|"]
    for q, v in aara_avg.items():
        j = interpolate(jpeg_curve, v["bpp"]) if jpeg_curve else None
        jtxt = f"{j:.2f}" if j is not None else "outside JPEG's range"
        dtxt = f"{v['psnr'] - j:+.2f}" if j is not None else "—"
        split = " / ".join(f"{v[f'bpp_{k}']:.4f}" for k in "wyz")
        lines.append(f"| {q} | {ck['lambdas'][q]} | {v['bpp']:.4f} | {split} | {v['psnr']:.2f} | {v['ms_ssim']:.4f} | {jtxt} | {dtxt} |")
    if jpeg_avg:
        lines += ["", "JPEG (cjpeg -optimize, 4:2:0), same images, same metric code:", "",
                  "| quality | bpp | PSNR dB | MS-SSIM |", "|---|---|---|---|"]
        lines += [f"| {q} | {v['bpp']:.4f} | {v['psnr']:.2f} | {v['ms_ssim']:.4f} |" for q, v in jpeg_avg.items()]
    text = "\n".join(lines)
    print(text)
    if args.results:
        kept = ""  # the hand-written status and history below the marker survive a new evaluation
        if os.path.exists(args.results):
            with open(args.results) as f:
                old = f.read()
            if KEEP_MARKER in old:
                kept = "\n" + old[old.index(KEEP_MARKER):]
        with open(args.results + ".tmp", "w") as f:
            f.write("# Training results (Python evaluation on Kodak)\n\n" + METHOD + "\n\n" + text + "\n" + kept)
        os.replace(args.results + ".tmp", args.results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(step=ck["step"], hours=ck["hours"], kind=model.kind, aara=aara, jpeg=jpeg,
                           aara_avg=aara_avg, jpeg_avg=jpeg_avg), f, indent=1)


if __name__ == "__main__":
    main()
