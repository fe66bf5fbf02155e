"""Fitted Gaussian-conditional tables: the CDF rows ŷ and ẑ are coded with, measured on training images.

The model is trained with a Gaussian of scale σ for every latent element, but the symbols it actually produces at
a table index are not exactly that Gaussian's: at the low levels the spread of small-σ elements is wider than σ says,
at the high levels narrower, and the shape differs from a Gaussian's (measured on training crops: train/RESULTS.md,
session 18). So each table row is the histogram of the symbols the model codes with it on training crops — never
Kodak — blended with the Gaussian it replaces (PRIOR_COUNT pseudo-counts, so a row seen rarely stays Gaussian):

    row (latent, level, j)   for table scales ≤ SPLIT_SCALE: small σ, where the shape depends on the level
    row (latent, j)          above it: every level's symbols pooled (their shape barely moves; 40 rows a latent,
                             not 40·L, keeps the weight file within 8 MB)

The engine only looks rows up (gaussian.map: latent × level × scale index → row): its scale index rule, first j
with σ ≤ scale[j], is unchanged, and so is every symbol — fitted tables change a file's bytes, never its pixels.
The row of index j is fitted to the elements that fall in (scale[j−1], scale[j]]; its Gaussian prior uses the
interval's geometric centre (the upper end overstates σ by 6 % on average).
"""
import glob
import math
import os
import random

import numpy as np
import torch
from PIL import Image

from model import SCALE_MIN, pad_to_stride, scale_table

SPLIT_SCALE = 2.0  # rows of table scales up to here are per level: measured −1.4 … −2.9 % of ŷ + ẑ's bits with it,
#                    within 0.05 points of per-level rows for every scale (training crops, session 18)
PRIOR_COUNT = 100.0  # pseudo-counts of the Gaussian prior in each row (100 and 1000 measured within 0.05 %)
CROP = (512, 384)  # width, height: centre crops, the size of most training images (bsd432: 481×321)
LATENTS = ("y", "z")  # gaussian.map's first axis: 0 ŷ, 1 ẑ


def gaussian_row(scale, c):
    """P(v), v = −c … c, of N(0, scale) convolved with U(−½, ½), and the mass beyond ±c (the escape's)."""
    v = np.abs(np.arange(-c, c + 1, dtype=np.float64))
    erfc = np.vectorize(math.erfc)
    upper = 0.5 * erfc(-(0.5 - v) / (scale * math.sqrt(2)))
    lower = 0.5 * erfc(-(-0.5 - v) / (scale * math.sqrt(2)))
    return upper - lower, math.erfc((c + 0.5) / (scale * math.sqrt(2)))


def training_crops(data_dir, count, seed):
    files = sorted(f for f in glob.glob(os.path.join(data_dir, "**", "*"), recursive=True)
                   if f.lower().endswith((".png", ".jpg", ".jpeg")))
    if len(files) < count:
        raise SystemExit(f"fit_tables: {len(files)} images under {data_dir}, {count} wanted")
    for path in random.Random(seed).sample(files, count):
        img = Image.open(path).convert("RGB")
        w, h = img.size
        cw, ch = min(w, CROP[0]), min(h, CROP[1])
        left, top = (w - cw) // 2, (h - ch) // 2
        yield np.asarray(img.crop((left, top, left + cw, top + ch)))


@torch.no_grad()
def symbol_histograms(model, crops, scales, centers):
    """hist[latent, level, j, v + c_max + 1] counts of the symbols v coded at scale index j (0 and the last column:
    escapes below and above ±c_j are folded into them)."""
    levels = model.config["levels"]
    cmax = int(centers.max())
    hist = np.zeros((len(LATENTS), levels, len(scales), 2 * cmax + 3), np.int64)
    thresholds = scales.astype(np.float32)
    for img in crops:
        x = pad_to_stride(torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float() / 255)
        for q in range(levels):
            out = model.compress_symbols(x, q)
            for k, latent in enumerate(LATENTS):
                sigma = out["sigma_" + latent].flatten().float().numpy()
                s = out["s" + latent].flatten().numpy().astype(np.int64)
                j = np.minimum(np.searchsorted(thresholds, sigma, side="left"), len(scales) - 1)
                c = centers[j]
                v = np.where(s < -c, -cmax - 1, np.where(s > c, cmax + 1, s))
                np.add.at(hist[k, q], (j, v + cmax + 1), 1)
    return hist, cmax


def fitted_row(counts, cmax, c, scale, quantized_cdf):
    """The quantized CDF of one row: the symmetrised histogram blended with the Gaussian prior."""
    h = counts[cmax + 1 - c: cmax + 2 + c].astype(np.float64)
    h = 0.5 * (h + h[::-1])
    escapes = float(counts[:cmax + 1 - c].sum() + counts[cmax + 2 + c:].sum())
    pmf, tail = gaussian_row(scale, c)
    n = h.sum() + escapes
    probs = (h + PRIOR_COUNT * pmf) / (n + PRIOR_COUNT)
    return quantized_cdf(probs, (escapes + PRIOR_COUNT * tail) / (n + PRIOR_COUNT), spread_remainder=True)


def fit_gaussian_tables(model, data_dir, crops, seed, centers, quantized_cdf):
    """(rows, map): the distinct quantized CDF rows, and map[latent, level, j] = the row ŷ/ẑ use at scale index j."""
    scales = scale_table().numpy()
    hist, cmax = symbol_histograms(model, training_crops(data_dir, crops, seed), scales, centers)
    centre = np.concatenate([[SCALE_MIN], np.sqrt(scales[1:] * scales[:-1])])
    rows, index = [], {}
    table_map = np.zeros(hist.shape[:3], np.int32)
    for k in range(hist.shape[0]):
        pooled = hist[k].sum(axis=0)
        for q in range(hist.shape[1]):
            for j, scale in enumerate(scales):
                counts = hist[k, q, j] if scale <= SPLIT_SCALE else pooled[j]
                row = fitted_row(counts, cmax, int(centers[j]), float(centre[j]), quantized_cdf)
                key = row.tobytes()
                if key not in index:
                    index[key] = len(rows)
                    rows.append(row)
                table_map[k, q, j] = index[key]
    return rows, table_map
