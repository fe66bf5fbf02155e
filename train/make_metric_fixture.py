"""Writes test/fixtures/metrics.json: small image pairs with the PSNR and MS-SSIM the trainer computes for them.

The TypeScript metrics (src/metrics.ts) must reproduce these numbers, so aara's reported quality and training's
mean the same thing. MS-SSIM comes from model.ms_ssim itself (float64, x in [0, 1], data_range 1, which is the
same maths as 8-bit values with data range 255), twice:
  msSsim               exactly as the trainer runs it. Its Gaussian window is built and normalised in float32, and
                       the rounding of the tap sum moves the result by up to ~1e-6 (E[x²] − μ² amplifies it), by an
                       amount that depends on torch's summation order;
  msSsimFloat64Window  the same function with the window built in float64: the exact maths, which TypeScript
                       matches to ~1e-15.
PSNR is the 8-bit definition over all RGB bytes.

Run from the repository root:  /usr/bin/python3 train/make_metric_fixture.py
"""
import base64
import json
import math
import os
import sys
from unittest import mock

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import model  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "metrics.json")


def smooth_with_noise(rng, width, height):
    """Diagonal colour gradients plus mild noise: natural-image-like structure at every scale."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    base = np.stack([
        255 * x / (width - 1),
        255 * y / (height - 1),
        127.5 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0),
    ], axis=-1)
    return to_u8(base + rng.normal(0, 6, base.shape))


def add_noise(rng, img, sigma):
    return to_u8(img + rng.normal(0, sigma, img.shape))


def blocky(img, block=8, step=24):
    """JPEG-like distortion: each block pulled towards its mean, then coarsely quantised."""
    out = img.astype(np.float64)
    height, width = img.shape[:2]
    for top in range(0, height, block):
        for left in range(0, width, block):
            tile = out[top:top + block, left:left + block]
            tile[:] = 0.75 * tile.mean(axis=(0, 1)) + 0.25 * tile
    return to_u8(np.round(out / step) * step)


def invert_blue(img):
    out = img.copy()
    out[..., 2] = 255 - out[..., 2]
    return out


def to_u8(values):
    return np.clip(np.round(values), 0, 255).astype(np.uint8)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)


def trainer_ms_ssim(a, b):
    def tensor(img):
        return torch.from_numpy(img.astype(np.float64) / 255).permute(2, 0, 1)[None]

    return float(model.ms_ssim(tensor(a), tensor(b))[0])


def float64_window(size, sigma=1.5):
    """model._gaussian, computed in float64."""
    g = torch.exp(-((torch.arange(size, dtype=torch.float64) - (size - 1) / 2) ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def exact_ms_ssim(a, b):
    with mock.patch.object(model, "_gaussian", float64_window):
        return trainer_ms_ssim(a, b)


def main():
    rng = np.random.default_rng(20240611)
    large = smooth_with_noise(rng, 80, 64)
    odd = smooth_with_noise(rng, 67, 53)
    tiny = smooth_with_noise(rng, 12, 9)
    small = smooth_with_noise(rng, 16, 12)
    pairs = [
        ("80x64 gaussian noise", large, add_noise(rng, large, 10)),
        ("67x53 blocky", odd, blocky(odd)),
        ("12x9 noise, window shrinks at every scale", tiny, add_noise(rng, tiny, 20)),
        ("16x12 blue inverted, its negative structure term clamps to 0", small, invert_blue(small)),
    ]
    fixture = {
        "generator": "train/make_metric_fixture.py",
        "pairs": [
            {
                "name": name,
                "width": a.shape[1],
                "height": a.shape[0],
                "a": base64.b64encode(a.tobytes()).decode("ascii"),
                "b": base64.b64encode(b.tobytes()).decode("ascii"),
                "psnr": psnr(a, b),
                "msSsim": trainer_ms_ssim(a, b),
                "msSsimFloat64Window": exact_ms_ssim(a, b),
            }
            for name, a, b in pairs
        ],
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    for pair in fixture["pairs"]:
        print(f"{pair['name']}: psnr {pair['psnr']:.6f} ms-ssim {pair['msSsim']:.12f} "
              f"(float64 window {pair['msSsimFloat64Window']:.12f})")


if __name__ == "__main__":
    main()
