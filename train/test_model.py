"""Checks of the trainer's building blocks: python3 train/test_model.py"""
import torch
import torch.nn.functional as F

from model import AARA, TConv, ms_ssim


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


if __name__ == "__main__":
    test_tconv_equals_conv_transpose()
    test_ms_ssim_identity_and_order()
    test_forward_shapes()
