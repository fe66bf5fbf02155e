"""Ablation of the entropy model on fixed transforms (issue 13): where the bits go, per latent, when each learned
part of a checkerboard or spacechannel checkpoint's entropy model is replaced, the transforms and gains left as
they are.

    /usr/bin/python3 train/ablation.py --checkpoint train/checkpoints/aara-checkerboard.pt \
        --kodak ../shared/datasets/kodak [--levels 0,2,5,8,10] [--fit-images 96] [--threads 1] [--y-priors F,H]

ŷ is coded either by
    F   a factorized prior: ŷ = round(y), one histogram of the integers per level and channel, and
    H   the mean-scale hyperprior (ŵ's bits counted with ŷ's): ŷ = round(y − μ) + μ, as the codec does;
ẑ (the residual latent, coded after ŷ, so it differs with ŷ's choice) by
    F   a factorized prior (histograms, as for ŷ),
    C   c_z's Gaussian at every element (g_m's features only, no spatial context: the hyper kind's model), or
    CB  the checkerboard: c_z at the anchors, c_z refined by the decoded anchors at the others, and for a
        spacechannel checkpoint
    SC  the space-channel context: CB with each pass's second channel half refined by its first half (k_a, k_o).
H + CB (H + SC) is the codec. A spacechannel checkpoint's CB is its own networks without k_a and k_o (trained to be
refined by them, so pessimistic like C). The factorized priors are non-parametric histograms fitted on training
crops (never Kodak) with Laplace smoothing (+½ a count over the fitted range widened by 8; a value outside costs the escape's
probability plus an Elias-gamma code of it): at least as good as a learned factorized density on those crops, so
the gains shown for the learned parts are not flattered by a weak baseline. What is not measured: transforms
trained for each prior (these were trained for H + CB; C at the others uses c_z's (μ', σ'), which the checkerboard
was trained to refine, so C is slightly pessimistic). Rates are −Σ log₂ p (real files add ≈ 0.001 bpp); PSNR on
8-bit RGB.
"""
import argparse
import glob
import math
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import center_crops, gaussian_likelihood, load_checkpoint, load_image, pad_to_stride  # noqa: E402

Y_PRIORS = ("F", "H")
Z_PRIORS = {"checkerboard": ("F", "C", "CB"), "spacechannel": ("F", "C", "CB", "SC")}
SMOOTHING = 0.5  # Laplace counts added to every value of a histogram's range
RANGE_MARGIN = 8  # values beyond the fitted extremes that still get a smoothed count


class Histograms:
    """Per-channel histograms of integer symbols [B, C, H, W]: fit, then −log₂ p of another tensor's symbols."""

    def __init__(self):
        self.samples = []

    def add(self, s):
        self.samples.append(s.permute(1, 0, 2, 3).reshape(s.shape[1], -1).long())

    def freeze(self):
        s = torch.cat(self.samples, dim=1)
        self.low = int(s.min()) - RANGE_MARGIN
        size = int(s.max()) + RANGE_MARGIN - self.low + 1
        counts = torch.stack([torch.bincount(row - self.low, minlength=size) for row in s]).double() + SMOOTHING
        total = counts.sum(dim=1, keepdim=True) + SMOOTHING  # + the escape's count
        self.cost = -torch.log2(counts / total)  # [C, size]
        self.escape = -torch.log2(SMOOTHING / total[:, 0])  # [C]
        del self.samples

    def bits(self, s):
        c = s.shape[1]
        v = s.permute(1, 0, 2, 3).reshape(c, -1).long() - self.low
        inside = (v >= 0) & (v < self.cost.shape[1])
        bits = torch.gather(self.cost, 1, v.clamp(0, self.cost.shape[1] - 1)) * inside
        outside = (~inside).double()
        gamma = 2 * torch.floor(torch.log2(torch.abs(v + self.low).double() + 1)) + 1  # Elias-gamma of |v| + 1
        bits = bits + outside * (self.escape[:, None] + gamma + 1)  # + the sign
        return float(bits.sum())


@torch.no_grad()
def main_branch(m, x, level, prior):
    """(ŷ, bits of ŵ + ŷ under the prior's own model or None for F, f₈, x̂_m)."""
    y = m.main_latent(x, level)
    if prior == "F":
        y_hat, bits = torch.round(y), None
    else:
        w_hat, _, mu, sigma = m.y_prior(y, level, "round")
        y_hat = torch.round(y - mu) + mu
        bits = float(-torch.log2(m.density_w.likelihood(w_hat, level)).sum()) + \
            float(-torch.log2(gaussian_likelihood(y_hat, mu, sigma)).sum())
    f8, xm = m.main_decode_split(y_hat, level)
    return y_hat, bits, f8, xm


@torch.no_grad()
def residual_branch(m, x, level, f8, xm, prior):
    """(ẑ, bits under the prior's own model or None for F)."""
    z = m.res_latent(x - xm, level)
    if prior == "F":
        return torch.round(z), None
    if prior == "C":
        gz = m.gains(level)[1][None, :, None, None]
        mu, sigma = m.res_context(f8).chunk(2, dim=1)
        mu, sigma = mu * gz, sigma * gz
    else:  # CB of a spacechannel checkpoint: its z_prior without k_a, k_o
        mu, sigma = m.z_prior(f8, level, z, torch.round, channel_context=prior != "CB")
    z_hat = torch.round(z - mu) + mu
    return z_hat, float(-torch.log2(gaussian_likelihood(z_hat, mu, sigma)).sum())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--kodak", required=True)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../shared/datasets/train"))
    ap.add_argument("--levels", default="0,2,5,8,10")
    ap.add_argument("--fit-images", type=int, default=96, help="training images whose center crop fits the histograms")
    ap.add_argument("--crop", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--y-priors", default="F,H", help="ŷ's priors to measure (F, H)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    m, ck = load_checkpoint(args.checkpoint)
    if m.kind not in Z_PRIORS:
        sys.exit("ablation.py: needs a checkerboard or spacechannel checkpoint")
    y_priors = [p for p in Y_PRIORS if p in args.y_priors.split(",")]
    z_priors = Z_PRIORS[m.kind]
    levels = [int(q) for q in args.levels.split(",")]

    paths = sorted(glob.glob(os.path.join(args.data, "**", "*.*"), recursive=True))
    random.Random(1).shuffle(paths)
    s = args.crop
    crops = center_crops(paths, s, args.fit_images)
    hist = {}  # ("y", level) and ("z", ŷ's prior, level)
    for q in levels:
        hy, hz = Histograms(), {yp: Histograms() for yp in y_priors}
        for x in crops:
            for yp in y_priors:
                y_hat, _, f8, xm = main_branch(m, x, q, yp)
                if yp == "F":
                    hy.add(y_hat)
                hz[yp].add(residual_branch(m, x, q, f8, xm, "F")[0])
        if "F" in y_priors:
            hy.freeze()
            hist["y", q] = hy
        for yp in y_priors:
            hz[yp].freeze()
            hist["z", yp, q] = hz[yp]
    print(f"checkpoint step {ck['step']}; histograms fitted on {len(crops)} center crops of {s}² of training images",
          flush=True)

    kodak = sorted(glob.glob(os.path.join(args.kodak, "*.png")))
    sums = {}  # (level, ŷ prior, ẑ prior) → [bits ŷ (+ŵ), bits ẑ, Σ PSNR]
    pixels = 0
    for path in kodak:
        img = load_image(path)
        h, w = img.shape[2:]
        pixels += h * w
        x = pad_to_stride(img)
        for q in levels:
            for yp in y_priors:
                y_hat, bits_y, f8, xm = main_branch(m, x, q, yp)
                if bits_y is None:
                    bits_y = hist["y", q].bits(y_hat)
                for zp in z_priors:
                    z_hat, bits_z = residual_branch(m, x, q, f8, xm, zp)
                    if bits_z is None:
                        bits_z = hist["z", yp, q].bits(z_hat)
                    x_hat = m.fuse(xm, m.decode_residual(z_hat, q))[:, :, :h, :w]
                    mse = float(((torch.round(255 * x_hat).clamp(0, 255) - torch.round(255 * img)) ** 2).mean())
                    acc = sums.setdefault((q, yp, zp), [0.0, 0.0, 0.0])
                    acc[0] += bits_y
                    acc[1] += bits_z
                    acc[2] += 10 * math.log10(255 ** 2 / mse)
        print(f"  {os.path.basename(path)} done", flush=True)

    n = len(kodak)
    print(f"\nKodak, {n} images; bpp = bits / pixels over all images, PSNR the mean of the images'")
    base_y = y_priors[0]
    print(f"| level | ŷ prior | ẑ prior | ŵ + ŷ bpp | ẑ bpp | total bpp | ẑ share | PSNR dB | total vs {base_y} + F |")
    print("|---|---|---|---|---|---|---|---|---|")
    for q in levels:
        base = sum(sums[q, base_y, "F"][:2])
        for yp in y_priors:
            for zp in z_priors:
                by, bz, p = sums[q, yp, zp]
                print(f"| {q} | {yp} | {zp} | {by / pixels:.4f} | {bz / pixels:.4f} | {(by + bz) / pixels:.4f} | "
                      f"{bz / (by + bz):.0%} | {p / n:.2f} | {100 * ((by + bz) / base - 1):+.1f} % |")


if __name__ == "__main__":
    main()
