"""Export the synthesis half of the shipped model (the decoder) to ONNX, for bench/peers.bench.ts.

    python3 train/export_onnx.py --checkpoint train/checkpoints/aara.pt   # the checkpoint weights/aara.bin came from
    python3 train/export_onnx.py --weights weights/aara.bin               # or straight from the flat weight file

Graph: inputs y [1, M, h, w] = ŷ / g_q and z [1, Mr, 2h, 2w] = ẑ / h_q (the dequantised latents, so one graph
serves every level), output x̂ [1, 3, 16h, 16w] = x̂_m + r̂ + φ([x̂_m, r̂]); h and w are dynamic.

The ONNX file holds its own copy of the weights: REGENERATE IT WHENEVER weights/aara.bin CHANGES. The sidecar
.json records the weights ID (the 16-byte ID in weights/aara.bin's header) it was made from, and the bench
refuses an export whose ID differs from the weight file's.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export import tensors, transform_tensors  # noqa: E402
from formats import HEADER_BYTES, payload_bytes, unpack_header, weights_id_of  # noqa: E402
from model import AARA, load_checkpoint  # noqa: E402

OPSET = 13
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "bench", "peers", "aara-decoder.onnx"))


def transposed_conv(weight, bias):
    """ConvTranspose2d(5, stride 2, padding 2, output_padding 1), the op model.TConv computes in phase form:
    ONNX Runtime's ConvTranspose runs as fast as the phase form's Conv + DepthToSpace and stores 25/36 the taps."""
    conv = nn.ConvTranspose2d(weight.shape[0], weight.shape[1], 5, stride=2, padding=2, output_padding=1)
    with torch.no_grad():
        conv.weight.copy_(weight)
        conv.bias.copy_(bias)
    return conv


class InverseGdn(nn.Module):
    """model.GDN(inverse=True) with the effective β, γ (as the weight file stores them) instead of its reparametrisation."""

    def __init__(self, beta, gamma):
        super().__init__()
        self.register_buffer("beta", beta)
        self.register_buffer("gamma", gamma[:, :, None, None])

    def forward(self, x):
        return x * torch.sqrt(F.conv2d(x * x, self.gamma, self.beta))


def synthesis(t, prefix, convs):
    layers = []
    for i in range(convs):
        layers.append(transposed_conv(t[f"{prefix}.{2 * i}.weight"], t[f"{prefix}.{2 * i}.bias"]))
        if i + 1 < convs:
            layers.append(InverseGdn(t[f"{prefix}.{2 * i + 1}.beta"], t[f"{prefix}.{2 * i + 1}.gamma"]))
    return nn.Sequential(*layers)


class Decoder(nn.Module):
    """x̂ = g_m(y) + g_r(z) + φ([g_m(y), g_r(z)]), built from the weight file's tensors (names as in export.tensors)."""

    def __init__(self, t):
        super().__init__()
        self.main_decoder = synthesis(t, "main_decoder", 4)
        self.res_decoder = synthesis(t, "res_decoder", 3)
        self.fusion1 = nn.Conv2d(6, 16, 3, padding=1)
        self.fusion2 = nn.Conv2d(16, 3, 3, padding=1)
        with torch.no_grad():
            for name, conv in (("fusion.conv1", self.fusion1), ("fusion.conv2", self.fusion2)):
                conv.weight.copy_(t[name + ".weight"])
                conv.bias.copy_(t[name + ".bias"])

    def forward(self, y, z):
        xm = self.main_decoder(y)
        rh = self.res_decoder(z)
        return xm + rh + self.fusion2(F.relu(self.fusion1(torch.cat([xm, rh], dim=1))))


def from_checkpoint(path):
    """The decoder tensors of a checkpoint and the weights ID its export.py export would carry; also the model."""
    model, _ = load_checkpoint(path)
    arrays = tensors(model)
    weights_id = weights_id_of(payload_bytes(arrays)).hex()  # the ID export.py's file would carry
    return {n: torch.from_numpy(a.copy()) for n, a in arrays}, weights_id, model


def from_weight_file(path):
    """The decoder tensors of a flat weight file and its header's weights ID."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        header = unpack_header(data)
    except ValueError as e:
        sys.exit(f"export_onnx.py: {path}: {e}")
    # every kind's file starts with export.transform_tensors(), whose shapes the config fixes: an untrained
    # model of the same config gives the layout
    t, offset = {}, HEADER_BYTES
    for name, a in transform_tensors(AARA(**header["config"])):
        t[name] = torch.from_numpy(np.frombuffer(data, "<f4", a.numel(), offset).reshape(a.shape).copy())
        offset += 4 * a.numel()
    return t, header["weights_id"]


@torch.no_grad()
def check_against_model(decoder, model, config):
    """The rebuilt decoder computes what AARA's own decode path does (ConvTranspose2d, effective GDN, fusion)."""
    y = torch.randn(1, config["M"], 2, 3)
    z = torch.randn(1, config["Mr"], 4, 6)
    expected = model.fuse(model.main_decoder(y), model.res_decoder(z))
    diff = float((decoder(y, z) - expected).abs().max())
    print(f"rebuilt decoder vs AARA's decode path: max abs diff {diff:.2e}")
    if diff > 1e-4:
        sys.exit("export_onnx.py: the rebuilt decoder does not match the model")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="training checkpoint (train/checkpoints/aara.pt)")
    source.add_argument("--weights", help="flat weight file (weights/aara.bin)")
    ap.add_argument("--out", default=DEFAULT_OUT, help="ONNX file; its sidecar is the same path with .json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    source_path = args.checkpoint or args.weights
    if not os.path.exists(source_path):
        sys.exit(f"export_onnx.py: not found: {source_path}")
    if args.checkpoint:
        t, weights_id, model = from_checkpoint(args.checkpoint)
    else:
        t, weights_id = from_weight_file(args.weights)
    decoder = Decoder(t).eval()
    M, Mr = t["main_decoder.0.weight"].shape[0], t["res_decoder.0.weight"].shape[0]
    if args.checkpoint:
        check_against_model(decoder, model, model.config)

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    example = (torch.zeros(1, M, 2, 3), torch.zeros(1, Mr, 4, 6))
    torch.onnx.export(decoder, example, args.out, opset_version=OPSET, input_names=["y", "z"], output_names=["x_hat"],
                      dynamic_axes={"y": {2: "h", 3: "w"}, "z": {2: "h2", 3: "w2"}, "x_hat": {2: "h16", 3: "w16"}},
                      do_constant_folding=True)

    import onnx  # Debian: python3-onnx (torch.onnx.export itself needs it too)
    graph = onnx.load(args.out)
    onnx.checker.check_model(graph)
    ops = sorted({n.op_type for n in graph.graph.node})
    sidecar = os.path.splitext(args.out)[0] + ".json"
    with open(sidecar, "w") as f:
        json.dump(dict(weights_id=weights_id, source=os.path.relpath(source_path, os.path.join(HERE, "..")),
                       opset=OPSET, inputs={"y": ["1", str(M), "h", "w"], "z": ["1", str(Mr), "2h", "2w"]},
                       output={"x_hat": ["1", "3", "16h", "16w"]},
                       note="written by train/export_onnx.py; regenerate whenever weights/aara.bin changes"), f, indent=1)
        f.write("\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes, ops {', '.join(ops)}) and {sidecar}, "
          f"weights id {weights_id}")


if __name__ == "__main__":
    main()
