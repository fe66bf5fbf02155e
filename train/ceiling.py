"""What caps the top of the ladder, measured on training images (never Kodak): per level, the estimated rate and
the PSNR with the latents rounded as the codec does, with ŷ left continuous, and with ŷ and ẑ left continuous (the
transforms' ceiling: no number of bits can buy more than it).

  /usr/bin/python3 train/ceiling.py --checkpoint train/checkpoints/aara-checkerboard.pt [--images 12] [--crop 384]
"""
import argparse
import glob
import math
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import center_crops, gaussian_likelihood, load_checkpoint  # noqa: E402


@torch.no_grad()
def code(m, x, level, round_y, round_z):
    """(estimated bits, 8-bit PSNR) with ŷ = round_y(y − μ) + μ and ẑ likewise (the checkerboard's anchors too)."""
    y = m.main_latent(x, level)
    w_hat, _, mu_y, sigma_y = m.y_prior(y, level, "round")
    y_hat = round_y(y - mu_y) + mu_y
    f8, xm = m.main_decode_split(y_hat, level)
    z = m.res_latent(x - xm, level)
    mu_z, sigma_z = m.z_prior(f8, level, z, round_z)
    z_hat = round_z(z - mu_z) + mu_z
    x_hat = m.fuse(xm, m.decode_residual(z_hat, level))
    bits = sum(float(-torch.log2(p).sum()) for p in (m.density_w.likelihood(w_hat, level),
                                                     gaussian_likelihood(y_hat, mu_y, sigma_y),
                                                     gaussian_likelihood(z_hat, mu_z, sigma_z)))
    mse = float(((torch.round(255 * x_hat).clamp(0, 255) - torch.round(255 * x)) ** 2).mean())
    return bits, 10 * math.log10(255 ** 2 / mse)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../shared/datasets/train"))
    ap.add_argument("--images", type=int, default=12)
    ap.add_argument("--crop", type=int, default=384)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m, ck = load_checkpoint(args.checkpoint)
    if m.kind == "factorized":
        sys.exit("ceiling.py: needs a hyper or checkerboard checkpoint")
    paths = sorted(glob.glob(os.path.join(args.data, "sun80", "*")) + glob.glob(os.path.join(args.data, "wiki", "*")))
    random.Random(1).shuffle(paths)
    s = args.crop
    crops = center_crops(paths, s, args.images)
    levels = range(m.config["levels"])

    def curve(round_y, round_z):
        out = []
        for q in levels:
            coded = [code(m, x, q, round_y, round_z) for x in crops]
            out.append((sum(b for b, _ in coded) / len(crops) / s ** 2, sum(p for _, p in coded) / len(crops)))
        return out

    identity = lambda v: v  # noqa: E731
    print(f"checkpoint step {ck['step']}, {len(crops)} center crops of {s}² (sun80, wiki)")
    rounded = curve(torch.round, torch.round)
    ceilings = {"ŷ continuous": curve(identity, torch.round), "ŷ, ẑ continuous": curve(identity, identity)}
    print("| level | bpp | PSNR rounded | " + " | ".join(ceilings) + " |")
    for q in levels:
        print(f"| {q} | {rounded[q][0]:.4f} | {rounded[q][1]:.2f} | " + " | ".join(f"{c[q][1]:.2f}" for c in ceilings.values()) + " |")

if __name__ == "__main__":
    main()
