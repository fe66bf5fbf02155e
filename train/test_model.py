"""Checks of the trainer's building blocks: python3 train/test_model.py"""
import os

import torch
import torch.nn.functional as F

from formats import HEADER_BYTES, pack_header, unpack_header, weights_id_of
from model import AARA, EntropyModel, TConv, anchors_like, ms_ssim

WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "weights")


def test_tconv_equals_conv_transpose():
    torch.manual_seed(0)
    for cin, cout, h, w in [(3, 4, 5, 7), (8, 3, 1, 1), (6, 5, 4, 3)]:
        t = TConv(cin, cout).double()
        x = torch.randn(2, cin, h, w, dtype=torch.float64)
        ref = F.conv_transpose2d(x, t.weight, t.bias, stride=2, padding=2, output_padding=1)
        out = t(x)
        assert out.shape == ref.shape, (out.shape, ref.shape)
        err = (out - ref).abs().max().item()
        assert err < 1e-12, err
    print("tconv == ConvTranspose2d: ok")


def test_ms_ssim_identity_and_order():
    torch.manual_seed(0)
    a = torch.rand(1, 3, 256, 256)
    assert abs(ms_ssim(a, a).item() - 1) < 1e-5
    n1 = (a + 0.02 * torch.randn_like(a)).clamp(0, 1)
    n2 = (a + 0.1 * torch.randn_like(a)).clamp(0, 1)
    assert ms_ssim(a, n1).item() > ms_ssim(a, n2).item()
    print("ms_ssim: ok")


def test_forward_shapes():
    m = AARA()
    x = torch.rand(2, 3, 64, 48)
    out = m(x, 3)
    assert out["x_hat"].shape == x.shape
    assert out["lik_y"].shape == (2, 128, 4, 3) and out["lik_z"].shape == (2, 64, 8, 6)
    print("forward shapes: ok")


def test_parameter_groups():
    for kind in ("factorized", "hyper"):
        m = AARA(kind=kind)
        groups = m.parameter_groups()
        ids = [id(p) for g in groups.values() for p in g]
        assert sorted(ids) == sorted(id(p) for p in m.parameters()), "every parameter in exactly one group"
        names = {id(p): n for n, p in m.named_parameters()}
        for group, params in groups.items():
            for p in params:
                n = names[id(p)]
                owner = m.get_submodule(n.split(".")[0]) if "." in n else None
                if group == "aux":
                    assert n.endswith("quantiles"), n
                elif group == "network":
                    assert not isinstance(owner, EntropyModel) and n != "log_gain_w", n
                else:
                    assert n == "log_gain_w" or owner.LR_GROUP == group, (n, group)
        assert [names[id(p)] for p in groups["network"]] == [n for n, p in m.named_parameters()
                                                             if id(p) in {id(q) for q in groups["network"]}]
    print("parameter groups: ok")


def test_weight_header_round_trip():
    for name, kind in (("test-tiny.bin", "factorized"), ("test-tiny-hyper.bin", "hyper"),
                       ("test-tiny-ychannel-fitted.bin", "ychannel")):
        with open(os.path.join(WEIGHTS, name), "rb") as f:
            data = f.read()
        header = unpack_header(data)
        assert header["kind"] == kind
        assert header["weights_id"] == weights_id_of(data[HEADER_BYTES:]).hex()
        strides = [int.from_bytes(data[o:o + 4], "little") for o in (36, 40)] if kind == "factorized" else None
        assert header["fitted"] == (name == "test-tiny-ychannel-fitted.bin")
        assert pack_header(kind, header["config"], data[HEADER_BYTES:], strides, header["fitted"]) == data[:HEADER_BYTES]
    for bad in (b"", b"AARAWGT\0" + bytes(56), b"NOTAARA\0" + bytes(56)):
        try:
            unpack_header(bad)
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad[:8]!r}")
    print("weight header: ok")


SMALL = dict(N=8, M=16, Nr=8, Mr=8, levels=2, Nh=8)


def warm_started(source, kind, fresh_prefix):
    """(a `kind` model loaded from `source`, whose only fresh tensors are `fresh_prefix`'s, an input x, and both
    models' compress_symbols of x) in eval mode."""
    model = AARA(kind=kind, **SMALL)
    missing = model.load_state_dict(source.state_dict(), strict=False).missing_keys
    assert missing and all(k.startswith(fresh_prefix) for k in missing), missing
    model.eval()
    x = torch.rand(1, 3, 64, 96)
    return model, x, source.compress_symbols(x, 1), model.compress_symbols(x, 1)


def test_spacechannel_warm_start():
    """A spacechannel model warm-started from a checkerboard one codes exactly as it does (its channel context starts
    at 0), and its context networks get gradients from the rate."""
    torch.manual_seed(3)
    cb = AARA(kind="checkerboard", **SMALL).eval()
    with torch.no_grad():  # a context that does something, so that equal rates mean something
        for p in cb.res_spatial.params[-1].parameters():
            p.normal_(0, 0.1)
    sc, x, a, b = warm_started(cb, "spacechannel", "res_channel.")
    assert a["bits_z"] == b["bits_z"] and torch.equal(a["sz"], b["sz"]) and torch.equal(a["x_hat"], b["x_hat"])
    sc.train()
    (-torch.log2(sc(x, 1)["lik_z"]).sum()).backward()
    assert all(float(n[-1].weight.grad.abs().sum()) > 0 for n in (sc.res_channel.anchors, sc.res_channel.others))
    print("spacechannel warm start: ok")


def test_ycontext_warm_start():
    """A ycontext model warm-started from a spacechannel one codes exactly as it does (ŷ's context starts at 0), and
    its ŷ context gets gradients from the rate once its output layer moves off 0."""
    torch.manual_seed(4)
    yc, x, a, b = warm_started(AARA(kind="spacechannel", **SMALL).eval(), "ycontext", "main_spatial.")
    assert a["bits"] == b["bits"] and torch.equal(a["sy"], b["sy"]) and torch.equal(a["x_hat"], b["x_hat"])
    with torch.no_grad():
        for p in yc.main_spatial.params[-1].parameters():
            p.normal_(0, 0.1)
    c = yc.compress_symbols(x, 1)
    anchors = anchors_like(c["mu_y"]).bool().expand_as(c["mu_y"])
    assert torch.equal(c["mu_y"][anchors], a["mu_y"][anchors]) and not torch.equal(c["mu_y"], a["mu_y"])
    yc.train()
    (-torch.log2(yc(x, 1)["lik_y"]).sum()).backward()
    assert float(yc.main_spatial.spatial.weight.grad.abs().sum()) > 0
    print("ycontext warm start: ok")


def test_ychannel_warm_start():
    """A ychannel model warm-started from a ycontext one codes exactly as it does (ŷ's channel context starts at 0);
    once k_a moves off 0 it changes the second half of ŷ's anchors' priors only, and the rate reaches it."""
    torch.manual_seed(5)
    yc = AARA(kind="ycontext", **SMALL).eval()
    with torch.no_grad():  # a spatial context that does something, so that equal rates mean something
        for p in yc.main_spatial.params[-1].parameters():
            p.normal_(0, 0.1)
    ych, x, a, b = warm_started(yc, "ychannel", "main_channel.")
    assert a["bits"] == b["bits"] and torch.equal(a["sy"], b["sy"]) and torch.equal(a["x_hat"], b["x_hat"])
    with torch.no_grad():
        for p in ych.main_channel.anchors[-1].parameters():
            p.normal_(0, 0.1)
    c = ych.compress_symbols(x, 1)
    half = c["mu_y"].shape[1] // 2
    anchors = anchors_like(c["mu_y"]).bool()
    first, second = (anchors.expand_as(c["mu_y"][:, :half]),) * 2
    assert torch.equal(c["mu_y"][:, :half][first], a["mu_y"][:, :half][first])
    assert not torch.equal(c["mu_y"][:, half:][second], a["mu_y"][:, half:][second])
    ych.train()
    (-torch.log2(ych(x, 1)["lik_y"]).sum()).backward()
    assert all(float(n[-1].weight.grad.abs().sum()) > 0 for n in (ych.main_channel.anchors, ych.main_channel.others))
    print("ychannel warm start: ok")


if __name__ == "__main__":
    test_tconv_equals_conv_transpose()
    test_ms_ssim_identity_and_order()
    test_forward_shapes()
    test_parameter_groups()
    test_weight_header_round_trip()
    test_spacechannel_warm_start()
    test_ycontext_warm_start()
    test_ychannel_warm_start()
