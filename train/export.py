"""Export a checkpoint to the flat weight file the TypeScript engine reads, its FORMAT.md, and parity fixtures.

    python3 train/export.py --checkpoint train/checkpoints/aara.pt --out weights/aara.bin \
        --format weights/FORMAT.md --fixtures test/fixtures
    python3 train/export.py --tiny-test-weights --out weights/test-tiny.bin   # seeded random tiny model, for golden tests

The file is a 64-byte header followed by tensors in the order of `tensors()` below, each little-endian,
with no per-tensor headers (llama2.c style: the reader walks the same list with a cursor).
"""
import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from formats import CDF_PRECISION, COMMON_ROWS, HEADER_BYTES, HEADER_ROWS, pack_header, padded_bytes, payload_bytes, weights_id_of  # noqa: E402
from fit_tables import fit_gaussian_tables, gaussian_row  # noqa: E402
from model import AARA, CHANNEL_KINDS, LAMBDAS, MAIN_SPATIAL_KINDS, SCALE_COUNT, SPATIAL_KINDS, pad_to_stride, remap_levels, scale_table  # noqa: E402

# Gaussian conditional tables cover ±TAIL_STDS·σ (two-sided tail mass 1e-9, CompressAI's), the rest escapes
TAIL_STDS = 6.109410204869
MAX_SYMBOLS = 4096  # regular symbols per channel table; wider quantile ranges are clipped (escape codes the rest)
FIT_SEED = 18  # which training images --fit-tables draws: fixed, so an export is reproducible
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
SHIPPED_WEIGHTS = os.path.join(REPO, "weights", "aara.bin")


def quantized_cdf(pmf, tail, spread_remainder=False):
    """pmf (n,) + tail mass → integer CDF of n+2 entries, every symbol (escape = last) with freq ≥ 1.

    The counts lost to flooring go to the most likely symbol (the factorized tables, kept as shipped), or with
    spread_remainder one each to the symbols with the largest fractional parts: a wide Gaussian table loses up to
    one count per symbol, thousands in all, which on its peak would double P(0) and waste bits on every other value.
    """
    probs = np.maximum(np.append(pmf, tail).astype(np.float64), 0.0)
    total = probs.sum()
    spare = (1 << CDF_PRECISION) - len(probs)
    exact = probs / total * spare
    freq = 1 + np.floor(exact).astype(np.int64)
    left = (1 << CDF_PRECISION) - int(freq.sum())
    if spread_remainder:
        freq[np.argsort(-(exact - np.floor(exact)), kind="stable")[:left]] += 1
    else:
        freq[int(np.argmax(probs))] += left
    return np.concatenate([[0], np.cumsum(freq)]).astype(np.int32)


def cdf_tensors(density, levels):
    """medians [L,C] f32, offset [L,C] i32, length [L,C] i32, cdf [L,C,stride] i32 (stride = max length + 2)."""
    rows = []
    for level in range(levels):
        below, length, pmf, tail = density.pmf_tables(level)
        rows.append((density.medians(level).detach(), below, length, pmf, tail))
    clip = lambda n: min(int(n), MAX_SYMBOLS)  # noqa: E731
    stride = max(clip(n) for r in rows for n in r[2]) + 2
    L, C = levels, density.channels
    medians = np.zeros((L, C), np.float32)
    offset = np.zeros((L, C), np.int32)
    length = np.zeros((L, C), np.int32)
    cdf = np.zeros((L, C, stride), np.int32)
    for level, (med, below, lens, pmf, tail) in enumerate(rows):
        for c in range(C):
            n = int(lens[c])
            skip = max(0, (n - MAX_SYMBOLS) // 2)
            n_kept = clip(n)
            p = pmf[c, skip:skip + n_kept].double().numpy()
            t = float(tail[c]) + float(pmf[c, :skip].sum() + pmf[c, skip + n_kept:n].sum())
            table = quantized_cdf(p, t)
            medians[level, c] = float(med[c])
            offset[level, c] = int(below[c]) - skip
            length[level, c] = n_kept
            cdf[level, c, :len(table)] = table
            cdf[level, c, len(table):] = 1 << CDF_PRECISION
    return medians, offset, length, cdf


def gaussian_tensors(compact=False, fitted=None):
    """One CDF table per scale of model.scale_table(): v ∈ [−c, c], c = ⌈TAIL_STDS·σ⌉, index v + c; escape last.
    compact (checkerboard kind): the rows back to back, each its length + 2 entries, instead of padded to the
    stride of the widest (the padding was 700 KB of the hyper kind's file).
    fitted (fit_tables.fit_gaussian_tables's (rows, map), compact kinds only): those rows instead of the Gaussian's,
    their count in gaussian.rows, and gaussian.map [2, L, S] saying which row ŷ, ẑ use at each level and scale index."""
    scales = scale_table()
    if fitted:
        rows, table_map = fitted
        lengths = np.array([len(r) - 2 for r in rows], np.int32)
        stride = int(lengths.max()) + 2
        return [("gaussian.shape", np.array([len(scales), stride], np.int32)),
                ("gaussian.scale", scales.float().numpy()), ("gaussian.rows", np.array([len(rows)], np.int32)),
                ("gaussian.offset", (lengths - 1) // 2), ("gaussian.length", lengths),
                ("gaussian.cdf", np.concatenate(rows).astype(np.int32)), ("gaussian.map", table_map)]
    centers = gaussian_centers(scales)
    stride = 2 * max(centers) + 1 + 2
    cdf = np.full((len(scales), stride), 1 << CDF_PRECISION, np.int32)
    for j, (s, c) in enumerate(zip(scales.tolist(), centers)):
        table = quantized_cdf(*gaussian_row(s, c), spread_remainder=True)
        cdf[j, :len(table)] = table
    centers = np.array(centers, np.int32)
    lengths = 2 * centers + 1
    if compact:
        cdf = np.concatenate([cdf[j, :n + 2] for j, n in enumerate(lengths)])
    return [("gaussian.shape", np.array([len(scales), stride], np.int32)),
            ("gaussian.scale", scales.float().numpy()),
            ("gaussian.offset", centers), ("gaussian.length", lengths), ("gaussian.cdf", cdf)]


def gaussian_centers(scales):
    """c_j = ⌈TAIL_STDS·σ_j⌉: a table row covers v ∈ [−c_j, c_j]."""
    return [int(math.ceil(float(s) * TAIL_STDS)) for s in scales]


def conv_block(prefix, conv):
    return [(prefix + ".weight", conv.weight), (prefix + ".bias", conv.bias)]


def gdn_block(prefix, gdn):
    beta, gamma = gdn.effective()
    return [(prefix + ".beta", beta), (prefix + ".gamma", gamma)]


def sequence(prefix, seq):
    out = []
    for i, layer in enumerate(seq):
        if hasattr(layer, "effective"):
            out += gdn_block(f"{prefix}.{i}", layer)
        else:
            out += conv_block(f"{prefix}.{i}", layer)
    return out


def attention(prefix, a):
    return conv_block(prefix + ".fc1", a.fc1) + conv_block(prefix + ".fc2", a.fc2) + conv_block(prefix + ".spatial", a.spatial)


def layers(prefix, seq):
    """The convolutions of a Sequential with ReLUs between (hyper and context networks), by their index."""
    return [b for i, layer in enumerate(seq) if not isinstance(layer, torch.nn.ReLU)
            for b in conv_block(f"{prefix}.{i}", layer)]


def tensors(model, fitted=None):
    """Every tensor of the weight file, in file order: (name, array)."""
    levels = model.config["levels"]
    if model.kind != "factorized":
        return hyper_tensors(model, fitted)
    out = (transform_tensors(model)
           + [("gain_y", torch.exp(model.log_gain_y)), ("gain_z", torch.exp(model.log_gain_z))])
    arrays = [(n, t.detach().cpu().float().numpy()) for n, t in out]
    for latent, density in (("y", model.density_y), ("z", model.density_z)):
        medians, offset, length, cdf = cdf_tensors(density, levels)
        arrays += [(f"entropy_{latent}.median", medians), (f"entropy_{latent}.offset", offset),
                   (f"entropy_{latent}.length", length), (f"entropy_{latent}.cdf", cdf)]
    return arrays


def transform_tensors(model):
    return (sequence("main_encoder", model.main_encoder) + attention("main_attention", model.main_attention)
            + sequence("main_decoder", model.main_decoder)
            + sequence("res_encoder", model.res_encoder) + attention("res_attention", model.res_attention)
            + sequence("res_decoder", model.res_decoder)
            + conv_block("fusion.conv1", model.fusion.conv1) + conv_block("fusion.conv2", model.fusion.conv2))


def hyper_tensors(model, fitted=None):
    """The Gaussian kinds: the transforms, gains of ŷ, ẑ, ŵ, the hyper and context networks (and the checkerboard's
    s_z, e_z, the space-channel's k_a, k_o, the ycontext kind's s_y, e_y, the ychannel kind's ŷ k_a, k_o), ŵ's factorized
    tables (their row stride first), then the Gaussian conditional's
    scale table and CDF tables."""
    out = (transform_tensors(model)
           + [("gain_y", torch.exp(model.log_gain_y)), ("gain_z", torch.exp(model.log_gain_z)),
              ("gain_w", torch.exp(model.log_gain_w))]
           + layers("hyper_analysis", model.hyper_analysis) + layers("hyper_synthesis", model.hyper_synthesis)
           + layers("res_context", model.res_context))
    if model.kind in SPATIAL_KINDS:
        out += (conv_block("res_spatial.spatial", model.res_spatial.spatial)
                + layers("res_spatial.params", model.res_spatial.params))
    if model.kind in CHANNEL_KINDS:
        out += layers("res_channel.anchors", model.res_channel.anchors) + layers("res_channel.others", model.res_channel.others)
    if model.kind in MAIN_SPATIAL_KINDS:
        out += (conv_block("main_spatial.spatial", model.main_spatial.spatial)
                + layers("main_spatial.params", model.main_spatial.params))
    if model.kind == "ychannel":
        out += layers("main_channel.anchors", model.main_channel.anchors) + layers("main_channel.others", model.main_channel.others)
    arrays = [(n, t.detach().cpu().float().numpy()) for n, t in out]
    halves = half_tensors(model)
    arrays = [(n, a.astype(np.float16) if n in halves else a) for n, a in arrays]
    medians, offset, length, cdf = cdf_tensors(model.density_w, model.config["levels"])
    stride = cdf.shape[2]
    if model.kind in MAIN_SPATIAL_KINDS:  # ŵ's CDF rows back to back (370 KB less), as the Gaussian tables are
        cdf = np.concatenate([cdf[q, c, :n + 2] for q in range(cdf.shape[0]) for c in range(cdf.shape[1])
                              for n in [int(length[q, c])]])
    arrays += [("entropy_w.stride", np.array([stride], np.int32)), ("entropy_w.median", medians),
               ("entropy_w.offset", offset), ("entropy_w.length", length), ("entropy_w.cdf", cdf)]
    return arrays + gaussian_tensors(compact=model.kind in SPATIAL_KINDS, fitted=fitted)


# Tensors stored as IEEE halves (2 bytes, the tensor padded to 4), to keep the weight file within its 8 MB budget: the
# ycontext kind's s_y (0.6 MB in float32); the ychannel kind's every context network's weights (s_z, e_z, ẑ's k_a, k_o,
# s_y, e_y, ŷ's k_a, k_o: its ŷ channel context's 0.7 MB would not fit otherwise). half_rounded() gives the model these
# exact values before export, so the fixtures and every file coded with the weights agree with the engine, which widens
# them exactly.
CONTEXT_NETWORKS = ("res_spatial.", "res_channel.", "main_spatial.", "main_channel.")


def half_tensors(model):
    """The names of the tensors model's weight file stores as halves."""
    if model.kind == "ycontext":
        return {"main_spatial.spatial.weight"}
    if model.kind == "ychannel":
        return {n for n, _ in model.named_parameters() if n.startswith(CONTEXT_NETWORKS) and n.endswith(".weight")}
    return set()


@torch.no_grad()
def half_rounded(model):
    """The model with its half_tensors rounded to float16 values (in place): the weights the file holds."""
    halves = half_tensors(model)
    for name, p in model.named_parameters():
        if name in halves:
            p.copy_(p.half().float())
    return model


def dtype_name(a):
    return {np.dtype(np.float32): "f32", np.dtype(np.int32): "i32", np.dtype(np.float16): "f16"}[a.dtype]


def write_weights(model, path, format_md=None, note="", fitted=None):
    arrays = tensors(model, fitted)
    payload = payload_bytes(arrays)
    strides = None
    if model.kind == "factorized":  # its CDF row strides are the only shapes the config does not imply
        strides = [next(a for n, a in arrays if n == f"entropy_{v}.cdf").shape[2] for v in ("y", "z")]
    header = pack_header(model.kind, model.config, payload, strides, fitted=fitted is not None)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(header + payload)
    os.replace(tmp, path)
    if format_md:
        write_format(format_md, arrays, note, model.kind, os.path.basename(path))
    return weights_id_of(payload).hex()


KIND_NOTES = {
    "factorized": [],
    "hyper": [
        "",
        "Kind hyper (train/model.py): ŵ (the hyper-latent, Nh channels at 1/64) has factorized tables as above, with",
        "row stride entropy_w.stride; ŷ and ẑ are coded with the Gaussian conditional: gaussian.shape = (S scales,",
        "row stride), gaussian.scale the S table scales (f32, increasing), and per scale j a CDF row of",
        "gaussian.length[j] symbols + escape; value v has index v + gaussian.offset[j]. A latent element of predicted",
        "scale σ (f32, gained) uses the first j with σ ≤ scale[j] (j = S−1 if none): comparisons only.",
        "res_context / hyper_synthesis output μ then σ of the un-gained latent: the engine multiplies both by the gains.",
    ],
}
KIND_NOTES["checkerboard"] = KIND_NOTES["hyper"] + [
    "",
    "Kind checkerboard: as hyper, plus res_spatial (s_z: conv5/1 Mr→Nh over ẑ/h_q at its anchors, row + column",
    "even, 0 elsewhere; e_z: conv1 (2Mr+Nh)→2Nh · ReLU · conv1 2Nh→2Mr over [μ', σ' of res_context, s_z]), whose",
    "output is added to res_context's μ', σ' at ẑ's other elements. ẑ's streams: the anchors', then the others'.",
    "gaussian.cdf holds the S rows back to back, row j its gaussian.length[j] + 2 entries (no padding; the reader",
    "pads each to the row stride of gaussian.shape).",
]
KIND_NOTES["spacechannel"] = KIND_NOTES["checkerboard"] + [
    "",
    "Kind spacechannel: as checkerboard, plus res_channel (k_a at the anchors, k_o at the others: conv3/1",
    "(Mr/2 + Mr)→Nh · ReLU · conv1 Nh→Mr over [ẑ/h_q of channels 0 … Mr/2−1 decoded at the pass's elements, 0",
    "elsewhere; μ', σ' of channels Mr/2 … Mr−1], whose output (Δμ', Δσ') is added to those μ', σ'). ẑ's streams,",
    "in order: the anchors' first Mr/2 channels (c_z's prior), their other channels (+ k_a over c_z's μ', σ'), the",
    "others' first half (the checkerboard's s_z, e_z, s_z reading all channels of the anchors), their second half",
    "(+ k_o over the μ', σ' that s_z, e_z give at every element, anchors included).",
]

# ŷ's checkerboard, and how the kinds that have it stay within 8 MB (the ychannel kind's storage says more)
MAIN_SPATIAL_NOTES = [
    "",
    "Kind ycontext: as spacechannel, plus main_spatial (s_y: conv5/1 M→Nh over ŷ/g_q at its anchors, row + column",
    "even, 0 elsewhere; e_y: conv1 (2M+Nh)→2Nh · ReLU · conv1 2Nh→2M over [μ', σ' of hyper_synthesis, s_y]), whose",
    "output is added to hyper_synthesis's μ', σ' at ŷ's other elements. ŷ's streams: the anchors', then the others',",
]
KIND_NOTES["ycontext"] = KIND_NOTES["spacechannel"] + MAIN_SPATIAL_NOTES + [
    "64 channels a stream (as many elements as the other kinds' ŷ streams of 32 channels). To stay within 8 MB:",
    "main_spatial.spatial.weight is stored as IEEE halves (f16; a tensor of f16 is padded to a multiple of 4 bytes),",
    "and entropy_w.cdf holds its L·Nh rows back to back like gaussian.cdf, row (q, c) its entropy_w.length[q, c] + 2",
    "entries (the reader pads each to entropy_w.stride).",
]
KIND_NOTES["ychannel"] = KIND_NOTES["spacechannel"] + MAIN_SPATIAL_NOTES + [
    "64 channels a stream (as many elements as the other kinds' ŷ streams of 32 channels). ŵ's CDF rows are stored",
    "back to back like gaussian.cdf, row (q, c) its entropy_w.length[q, c] + 2 entries (the reader pads each to",
    "entropy_w.stride).",
    "",
    "Kind ychannel: as ycontext, plus main_channel (ŷ's k_a, k_o: conv3/1 (M/2 + M)→Nh · ReLU · conv1 Nh→M, as",
    "res_channel over ẑ): ŷ is coded in ẑ's four space-channel steps, its streams in order: the anchors' first M/2",
    "channels (h_s's prior), their other channels (+ k_a over h_s's μ', σ'), the others' first half (s_y, e_y, s_y",
    "reading all channels of the anchors), their second half (+ k_o over the μ', σ' that s_y, e_y give at every",
    "element), 64 channels a stream. To stay within 8 MB every weight of the context networks (res_spatial,",
    "res_channel, main_spatial, main_channel) is stored as IEEE halves (f16; a tensor of f16 is padded to a multiple",
    "of 4 bytes).",
]

FITTED_NOTES = [
    "",
    "Version 3 (export.py --fit-tables, train/fit_tables.py): the Gaussian tables are fitted to the symbols the model",
    "codes on training images, per latent and level. gaussian.rows = R, the number of distinct CDF rows; gaussian.offset,",
    "gaussian.length and gaussian.cdf hold those R rows (back to back, as above); gaussian.map [2, L, S] is the row ŷ",
    "(map[0]) or ẑ (map[1]) uses at level q for scale index j. The scale index rule is version 2's; between two levels",
    "a file uses the lower level's rows.",
]


def write_format(path, arrays, note, kind, weights_name):
    lines = [
        f"# weights/{weights_name} — flat weight file format, {kind} kind (written by train/export.py, read by src/format/weights.ts)",
        "",
        "All numbers little-endian. A 64-byte header, then the tensors below back to back, in this order, with no",
        "per-tensor headers: the reader walks this list with one cursor. Shapes use the header's config",
        "(N, M, Nr, Mr, L levels; SY, SZ = CDF table strides). Conv weights are PyTorch Conv2d [out, in, k, k];",
        "transposed-conv weights PyTorch ConvTranspose2d [in, out, 5, 5]; GDN β, γ are the effective values",
        "(γ[i, j] multiplies x_j² in the norm of channel i); gains are positive multipliers (decoder divides).",
        "CDF tables: value v of channel c at level q has index v + offset[q, c]; indices 0 … length−1 are",
        "regular symbols, index length is the escape; cdf row has length + 2 entries (0 … 2^16), padded with 2^16.",
        "",
        "| offset | field | type |",
        "|---|---|---|",
        "| 0 | magic `AARAWGT\\0` | 8 bytes |",
        *HEADER_ROWS[kind],
        *COMMON_ROWS,
        *KIND_NOTES[kind],
        *(FITTED_NOTES if any(name == "gaussian.map" for name, _ in arrays) else []),
        "",
        "Tensors" + (f" ({note})" if note else "") + ":",
        "",
        "| offset | name | dtype | shape |",
        "|---|---|---|---|",
    ]
    offset = HEADER_BYTES
    for name, a in arrays:
        lines.append(f"| {offset} | {name} | {dtype_name(a)} | [{', '.join(str(s) for s in a.shape)}] |")
        offset += padded_bytes(a)
    lines += ["", f"Total: {offset} bytes.", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


class FixtureWriter:
    def __init__(self):
        self.entries, self.chunks, self.offset = [], [], 0

    def add(self, name, t):
        a = t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)
        a = a.astype(np.int32 if a.dtype.kind in "iu" else np.float32)
        if a.ndim == 4:
            a = a[0]  # fixtures hold single images, CHW
        self.entries.append(dict(name=name, dtype=dtype_name(a), shape=list(a.shape), offset=self.offset))
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        self.chunks.append(b)
        self.offset += len(b)

    def save(self, folder, meta):
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "parity.bin"), "wb") as f:
            f.write(b"".join(self.chunks))
        with open(os.path.join(folder, "parity.json"), "w") as f:
            json.dump(dict(meta, entries=self.entries), f, indent=1)


def synthetic_image(h, w):
    """Deterministic odd-sized test picture: gradients, a disc and stripes (no data file needed)."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 128 + 100 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    g = 255 * xx / max(w - 1, 1)
    b = np.where((xx - w / 2) ** 2 + (yy - h / 2) ** 2 < (min(h, w) / 3) ** 2, 220, 30) + 20 * ((xx + yy) % 4)
    return np.clip(np.stack([r, g, b], -1), 0, 255).astype(np.uint8)


def layer_outputs(seq, x):
    outs = []
    for layer in seq:
        x = layer(x)
        outs.append(x)
    return outs


@torch.no_grad()
def write_fixtures(model, folder, kodak, weights_id):
    from PIL import Image
    fx = FixtureWriter()
    crop = np.asarray(Image.open(kodak).convert("RGB"))[200:248, 300:364]  # 64×48 crop of a Kodak image
    top = model.config["levels"] - 1
    crop_levels = [0, 4] if model.kind == "factorized" else sorted({0, min(5, top), top})
    images = [("crop", crop, crop_levels), ("odd", synthetic_image(29, 37), [min(2, top)])]
    for tag, img, levels in images:
        fx.add(f"{tag}.pixels", img.transpose(2, 0, 1))
        x = pad_to_stride(torch.from_numpy(img.copy()).permute(2, 0, 1)[None].float() / 255)
        for level in levels:
            out = model.compress_symbols(x, level)
            keys = ("sy", "sz", "y", "z", "x_main", "r_hat", "x_hat")
            if model.kind != "factorized":  # the priors' inputs and outputs: symbols of ŵ, μ and σ (gained) of ŷ, ẑ
                keys += ("sw", "w", "mu_y", "sigma_y", "mu_z", "sigma_z", "f8")
            for key in keys:
                fx.add(f"{tag}.level{level}.{key}", out[key])
            fx.add(f"{tag}.level{level}.estimated_bits", np.array([out["bits"]], np.float32))

    if model.kind != "factorized":  # the layers of the transforms are the factorized kind's: its fixtures check them
        fx.save(folder, dict(weights_id=weights_id, kind=model.kind, layer_level=None,
                             note="written by train/export.py; crop = kodim23.png rows 200-247, cols 300-363"))
        return
    # every layer's output for one input (the crop's top-left 32×32 at level 3), fed what the engine feeds it
    level = 3
    x = torch.from_numpy(crop[:32, :32].copy()).permute(2, 0, 1)[None].float() / 255
    out = model.compress_symbols(x, level)
    for key in ("sy", "sz", "x_main"):
        fx.add(f"layers.{key}", out[key])
    fe = layer_outputs(model.main_encoder, x)
    for i, t in enumerate(fe):
        fx.add(f"layers.main_encoder.{i}", t)
    fx.add("layers.main_attention", model.main_attention(fe[-1]))
    gy, gz = model.gains(level)
    for i, t in enumerate(layer_outputs(model.main_decoder, out["y_hat"] / gy[None, :, None, None])):
        fx.add(f"layers.main_decoder.{i}", t)
    fr = layer_outputs(model.res_encoder, x - out["x_main"])
    for i, t in enumerate(fr):
        fx.add(f"layers.res_encoder.{i}", t)
    fx.add("layers.res_attention", model.res_attention(fr[-1]))
    for i, t in enumerate(layer_outputs(model.res_decoder, out["z_hat"] / gz[None, :, None, None])):
        fx.add(f"layers.res_decoder.{i}", t)
    fx.save(folder, dict(weights_id=weights_id, layer_level=level,
                         note="written by train/export.py for weights/aara.bin; crop = kodim23.png rows 200-247, cols 300-363"))


def regenerate_shipped_golden():
    """The golden set pinned to the shipped weights (test/golden/shipped) follows them: same command, same commit."""
    if not os.path.exists(os.path.join(REPO, "dist", "test", "golden", "sources.js")):
        sys.exit("export.py: wrote weights/aara.bin, but test/golden/shipped needs `npm run build` first; then run "
                 "node test/golden/make-golden.mjs test/golden/shipped")
    subprocess.run(["node", "test/golden/make-golden.mjs", "test/golden/shipped"], cwd=REPO, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", help="training checkpoint (train/checkpoints/aara.pt)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--format", help="write the format table (weights/FORMAT.md)")
    ap.add_argument("--fixtures", help="write parity fixtures into this folder")
    ap.add_argument("--kodak-image", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                                           "datasets", "kodak", "kodim23.png"))
    ap.add_argument("--tiny-test-weights", action="store_true",
                    help="export a seeded, untrained tiny model (N=8,M=16,Nr=8,Mr=8, 2 levels) for golden tests")
    ap.add_argument("--kind", default="factorized", help="model kind of --tiny-test-weights")
    ap.add_argument("--fit-tables", metavar="DIR",
                    help="fit the Gaussian tables to the symbols the model codes on training images under DIR "
                         "(train/fit_tables.py; writes weight file version 3). Never Kodak")
    ap.add_argument("--fit-crops", type=int, default=48, help="images --fit-tables draws (default 48)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.tiny_test_weights:
        torch.manual_seed(1234)
        model = AARA(N=8, M=16, Nr=8, Mr=8, levels=2, kind=args.kind, Nh=8)
        with torch.no_grad():
            # gains of 30–60 make the untrained encoder's small outputs into non-zero symbols, and a non-zero
            # φ exercises the fusion: golden files then cover analysis, coding, synthesis and fusion
            gains = torch.log(torch.tensor([30.0, 60.0]))[:, None]  # levels differ, as real ones do
            model.log_gain_y.copy_(gains.expand_as(model.log_gain_y))
            model.log_gain_z.copy_(gains.expand_as(model.log_gain_z))
            if args.kind != "factorized":
                model.log_gain_w.copy_(gains.expand_as(model.log_gain_w))
                # priors that vary from element to element, so the tests see many means and scale indexes
                model.hyper_synthesis[-1].weight.normal_(0, 0.5)
                model.res_context[-1].weight.normal_(0, 0.5)
            if args.kind in SPATIAL_KINDS:  # contexts that move the priors (they start at 0)
                model.res_spatial.params[-1].weight.normal_(0, 0.5)
            if args.kind in CHANNEL_KINDS:
                model.res_channel.anchors[-1].weight.normal_(0, 0.5)
                model.res_channel.others[-1].weight.normal_(0, 0.5)
            if args.kind in MAIN_SPATIAL_KINDS:
                model.main_spatial.params[-1].weight.normal_(0, 0.5)
            if args.kind == "ychannel":
                model.main_channel.anchors[-1].weight.normal_(0, 0.5)
                model.main_channel.others[-1].weight.normal_(0, 0.5)
            model.fusion.conv2.weight.normal_(0, 0.05)
        note = "tiny untrained test model"
    else:
        if not args.checkpoint or not os.path.exists(args.checkpoint):
            sys.exit(f"export.py: checkpoint not found: {args.checkpoint}")
        ck = torch.load(args.checkpoint, map_location="cpu")
        config = dict(ck["config"])
        if list(ck["lambdas"]) != LAMBDAS:  # the weight file gets model.LAMBDAS, the ladder a resume would train
            source = remap_levels(ck["model"], ck["lambdas"], LAMBDAS)
            config["levels"] = len(LAMBDAS)
            print(f"checkpoint ladder {ck['lambdas']} → {LAMBDAS}: levels from {source}")
        model = AARA(**config)
        model.load_state_dict(ck["model"])
        note = f"trained {ck['step']} steps, {ck['hours']:.2f} h"
    model.eval()
    half_rounded(model)
    fitted = None
    if args.fit_tables:
        if model.kind not in SPATIAL_KINDS:
            sys.exit("export.py: --fit-tables needs a kind with compact Gaussian tables (checkerboard and later)")
        fitted = fit_gaussian_tables(model, args.fit_tables, args.fit_crops, FIT_SEED,
                                     np.array(gaussian_centers(scale_table())), quantized_cdf)
        note += f"; Gaussian tables fitted on {args.fit_crops} training images ({len(fitted[0])} rows)"
    weights_id = write_weights(model, args.out, args.format, note, fitted)
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes), id {weights_id}, {note}")
    if args.fixtures:
        if not os.path.exists(args.kodak_image):
            sys.exit(f"export.py: image for the parity crop not found: {args.kodak_image}")
        write_fixtures(model, args.fixtures, args.kodak_image, weights_id)
        print(f"wrote parity fixtures in {args.fixtures}")
    if os.path.abspath(args.out) == SHIPPED_WEIGHTS:
        regenerate_shipped_golden()


if __name__ == "__main__":
    main()
