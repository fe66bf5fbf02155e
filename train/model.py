"""AARA: Adaptive Attention Residual Autoencoder (see ../shared/design/model.md).

        x ──pad──► f_m ─► CBAM ─► ×g_q ─► Q ─► ŷ ─► ÷g_q ─► g_m ─────────────► x̂_m ──┐
                                              │ (factorized EB, per level)       │      │
                   r = x − x̂_m ◄──────────────┴──────────────────────────────────┘      │
                   r ─► f_r ─► CBAM ─► ×h_q ─► Q ─► ẑ ─► ÷h_q ─► g_r ──────────► r̂ ──┐ │
                                                                                       ▼ ▼
                                                         x̂ = x̂_m + r̂ + φ([x̂_m, r̂])

Blocks, in the order the weight file stores them (train/export.py walks this list):
    main_encoder    f_m   conv5/2 3→N · GDN · conv5/2 N→N · GDN · conv5/2 N→N · GDN · conv5/2 N→M
    main_attention  A_m   CBAM(M)
    main_decoder    g_m   tconv5/2 M→N · IGDN · tconv N→N · IGDN · tconv N→N · IGDN · tconv N→3
    res_encoder     f_r   conv5/2 3→Nr · GDN · conv5/2 Nr→Nr · GDN · conv5/2 Nr→Mr
    res_attention   A_r   CBAM(Mr)
    res_decoder     g_r   tconv5/2 Mr→Nr · IGDN · tconv Nr→Nr · IGDN · tconv Nr→3
    fusion          φ     conv3 6→16 · ReLU · conv3 16→3 (initialised to output 0)
    gains                 per level q: g_q (M), h_q (Mr), positive
    bottlenecks           factorized density per level per channel for ŷ and ẑ

Kind "hyper" (issue 13) replaces both factorized priors by Gaussian conditionals N(μ, σ) whose μ, σ the
decoder can compute before it reads the latent:

        ŷ/g_q ─► h_a ─► ×k_q ─► Q ─► ŵ ─► ÷k_q ─► h_s ─► (μ_y, σ_y)·g_q     ŵ: factorized density per level
        ŷ/g_q ─► g_m[0:2] ─► f₈ (N ch. at 1/8, = ẑ's grid) ─► c_z ─► (μ_z, σ_z)·h_q   (no side information)

    hyper_analysis   h_a   conv3/1 M→Nh · ReLU · conv5/2 Nh→Nh · ReLU · conv5/2 Nh→Nh
    hyper_synthesis  h_s   tconv5/2 Nh→Nh · ReLU · tconv5/2 Nh→Nh · ReLU · conv3/1 Nh→2M (μ then σ)
    res_context      c_z   conv3/1 N→Nh · ReLU · conv3/1 Nh→2Mr (μ then σ)
Symbols are s = round(y − μ), ŷ = s + μ; σ is bounded below by 0.11 and coded through a fixed table of
64 log-spaced scales 0.11 … 256 (the engine picks the first table scale ≥ σ by comparison only).

Kind "checkerboard" (He et al. 2021) is the hyper kind plus a spatial context for ẑ, the latent that takes most
of the bits: ẑ's grid is split like a checkerboard into anchors (row + column even, in image coordinates) and
the rest. Anchors are coded first with c_z's (μ, σ), exactly as in the hyper kind; the others then also see
their decoded anchor neighbours:

        ẑ_anchors/h_q ─► s_z (conv5/1 Mr→Nh) ──┐
                        c_z's (μ', σ') (2Mr) ──┴─► cat ─► e_z ─► (Δμ', Δσ')      non-anchors: (μ', σ') + Δ

    res_spatial      s_z   conv5/1 Mr→Nh over ẑ/h_q with the non-anchors set to 0
                     e_z   conv1/1 (2Mr+Nh)→2Nh · ReLU · conv1/1 2Nh→2Mr (initialised to output 0)

Kind "spacechannel" is the checkerboard kind plus a
channel context for ẑ (He et al. 2022, ELIC's space-channel context, two groups): each checkerboard pass codes
ẑ's first Mr/2 channels, then the second half with (μ, σ) refined from the first half just decoded, so the
anchors, which the checkerboard gives no context at all, see their co-located and diagonal neighbours' first half:

        pass 1a  anchors, channels 0 … Mr/2−1          c_z
        pass 1b  anchors, channels Mr/2 … Mr−1         c_z + k_a([ẑ anchors 1a / h_q, c_z's (μ', σ')])
        pass 2a  others, channels 0 … Mr/2−1           c_z + e_z(…) as the checkerboard (s_z over all anchors)
        pass 2b  others, channels Mr/2 … Mr−1          the same + k_o([ẑ others 2a / h_q, (μ', σ') of 2a's rule])

    res_channel      k_a, k_o   conv3/1 (Mr/2 + Mr)→Nh · ReLU · conv1/1 Nh→Mr (Δμ', Δσ' of the second half;
                                initialised to output 0, so a warm start from the checkerboard kind begins
                                at its rate exactly)

Kind "ycontext" (session 12; in the engine and the weight format since session 13) is the spacechannel kind plus
the checkerboard for ŷ, whose hyperprior alone gives it no spatial context (ŷ + ŵ are 22–51 % of a file, most at
the lowest levels): ŷ's anchors are coded with h_s's (μ', σ'), the others with (μ', σ') + e_y([(μ', σ'),
s_y(ŷ_anchors / g_q)]):

    main_spatial     s_y   conv5/1 M→Nh over ŷ/g_q with the non-anchors set to 0
                     e_y   conv1/1 (2M+Nh)→2Nh · ReLU · conv1/1 2Nh→2M (initialised to output 0, so a warm start
                           from the spacechannel kind begins at its rate exactly)

Kind "ychannel" (session 14; trainer only) is the ycontext kind with ŷ coded in the four passes of ẑ's
space-channel context (1a … 2b above, over ŷ's M channels: h_s for c_z, s_y / e_y for s_z / e_z):

    main_channel     k_a, k_o   conv3/1 (M/2 + M)→Nh · ReLU · conv1/1 Nh→M (initialised to output 0, so a warm start
                                from the ycontext kind begins at its rate exactly)

Both latents' passes are one function, checkerboard_params.
"""
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

# λ ladder (loss λ·255²·MSE + bpp); one network, one gain pair per level. CompressAI's ladder starts at
# 0.0018, but this model spends more bits at the same λ (0.27 bpp on Kodak at 0.0018), so two lower
# rungs reach ≈0.1 bpp; 0.0932 (1.4 bpp, above the ≈0.1–1.0 target span) was dropped in session 2.
# Session 5 (issue 13) adds three rungs above 0.0483 (34.2 dB on Kodak) to reach ≥ 37 dB: about +1 dB per
# doubling of λ was measured between the top rungs, so 0.0932, 0.18, 0.35.
# Session 6 tried two more rungs, 0.7 and 1.4, with the transforms training again: on validation crops they
# gave +0.13 and +0.20 dB for +0.34 and +0.71 bpp over 0.35 (the transforms, not the λ, cap the top): dropped
# again (export.py and a resume cut a checkpoint's ladder to this one).
LAMBDAS = [0.00025, 0.0007, 0.0018, 0.0035, 0.0067, 0.0130, 0.0250, 0.0483, 0.0932, 0.18, 0.35]
LAMBDA_REF = 0.0130  # level whose gains start at 1
STRIDE = 16  # total downsampling of the main branch: images are padded to a multiple of it


class _LowerBound(torch.autograd.Function):
    """max(x, bound) whose gradient still pushes x up from below (Ballé's trick, as in CompressAI)."""

    @staticmethod
    def forward(ctx, x, bound):
        ctx.save_for_backward(x, bound)
        return torch.max(x, bound)

    @staticmethod
    def backward(ctx, grad):
        x, bound = ctx.saved_tensors
        pass_through = (x >= bound) | (grad < 0)
        return pass_through.type(grad.dtype) * grad, None


def lower_bound(x, bound):
    return _LowerBound.apply(x, torch.tensor(bound, dtype=x.dtype, device=x.device))


class NonNegative(nn.Module):
    """Reparametrise v ≥ minimum as v = max(p, √(minimum+ε))² − ε, ε = 2⁻³⁶ (keeps gradients alive near 0)."""

    def __init__(self, minimum=0.0):
        super().__init__()
        self.pedestal = 2.0 ** -36
        self.bound = math.sqrt(minimum + self.pedestal)

    def init(self, v):
        return torch.sqrt(torch.clamp(v + self.pedestal, min=self.pedestal))

    def forward(self, p):
        return lower_bound(p, self.bound) ** 2 - self.pedestal


class GDN(nn.Module):
    """y_i = x_i / sqrt(β_i + Σ_j γ_ij x_j²); inverse=True multiplies (IGDN)."""

    def __init__(self, channels, inverse=False):
        super().__init__()
        self.inverse = inverse
        self.beta_param = NonNegative(1e-6)
        self.gamma_param = NonNegative(0.0)
        self.beta = nn.Parameter(self.beta_param.init(torch.ones(channels)))
        self.gamma = nn.Parameter(self.gamma_param.init(0.1 * torch.eye(channels)))

    def effective(self):
        return self.beta_param(self.beta), self.gamma_param(self.gamma)

    def forward(self, x):
        beta, gamma = self.effective()
        norm = torch.sqrt(F.conv2d(x * x, gamma[:, :, None, None], beta))
        return x * norm if self.inverse else x / norm


def conv(cin, cout, k=5, stride=2):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2)


class TConv(nn.Module):
    """ConvTranspose2d(k=5, stride=2, padding=2, output_padding=1) computed as four 3×3 phase convs.

    Same weights ([Cin, Cout, 5, 5]) and maths as ConvTranspose2d, but no multiplications by stuffed
    zeros (Debian's torch 1.13 ConvTranspose2d is ~80× slower than Conv2d on CPU). Output pixel
    (2m+a, 2n+b) = Σ_{dy,dx∈{-1,0,1}} x[m+dy, n+dx] · w[a+2−2dy, b+2−2dx] (taps outside 0..4 are 0),
    i.e. a 3×3 conv with 4·Cout outputs followed by pixel_shuffle(2).
    """

    def __init__(self, cin, cout):
        super().__init__()
        ref = nn.ConvTranspose2d(cin, cout, 5, stride=2, padding=2, output_padding=1)
        self.weight = nn.Parameter(ref.weight.detach().clone())  # [Cin, Cout, 5, 5]
        self.bias = nn.Parameter(ref.bias.detach().clone())
        # phase_index[a, t] = kernel tap used by phase a at 3×3 offset t, or 5 (a zero tap)
        idx = torch.tensor([[4 + a - 2 * t if 0 <= 4 + a - 2 * t <= 4 else 5 for t in range(3)] for a in range(2)])
        self.register_buffer("phase_index", idx, persistent=False)

    def phase_kernel(self):
        cin, cout = self.weight.shape[:2]
        w = F.pad(self.weight, (0, 1, 0, 1))  # tap 5 is zero
        w = w.permute(1, 0, 2, 3)  # [Cout, Cin, 6, 6]
        rows = w[:, :, self.phase_index.reshape(-1), :].reshape(cout, cin, 2, 3, 6)
        k = rows[..., self.phase_index.reshape(-1)].reshape(cout, cin, 2, 3, 2, 3)
        # → [Cout, 2(a), 2(b), Cin, 3, 3] → [Cout·4, Cin, 3, 3] in pixel_shuffle's channel order
        return k.permute(0, 2, 4, 1, 3, 5).reshape(cout * 4, cin, 3, 3)

    def forward(self, x):
        y = F.conv2d(x, self.phase_kernel(), self.bias.repeat_interleave(4), padding=1)
        return F.pixel_shuffle(y, 2)


class CBAM(nn.Module):
    """Channel attention (shared MLP on global avg and max pools) then spatial attention (7×7 conv)."""

    def __init__(self, channels, reduction=16):
        super().__init__()
        hidden = max(1, channels // reduction)
        self.fc1 = nn.Conv2d(channels, hidden, 1)
        self.fc2 = nn.Conv2d(hidden, channels, 1)
        self.spatial = nn.Conv2d(2, 1, 7, padding=3)

    def mlp(self, v):
        return self.fc2(F.relu(self.fc1(v)))

    def forward(self, f):
        avg = f.mean(dim=(2, 3), keepdim=True)
        mx = f.amax(dim=(2, 3), keepdim=True)
        fc = torch.sigmoid(self.mlp(avg) + self.mlp(mx)) * f
        desc = torch.cat([fc.mean(dim=1, keepdim=True), fc.amax(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.spatial(desc)) * fc


class Analysis(nn.Sequential):
    """conv5/2 with GDN between: widths [3, w1, ..., latent]."""

    def __init__(self, widths):
        layers = []
        for i in range(len(widths) - 1):
            layers.append(conv(widths[i], widths[i + 1]))
            if i < len(widths) - 2:
                layers.append(GDN(widths[i + 1]))
        super().__init__(*layers)


class Synthesis(nn.Sequential):
    """tconv5/2 with IGDN between: widths [latent, ..., 3]."""

    def __init__(self, widths):
        layers = []
        for i in range(len(widths) - 1):
            layers.append(TConv(widths[i], widths[i + 1]))
            if i < len(widths) - 2:
                layers.append(GDN(widths[i + 1], inverse=True))
        super().__init__(*layers)


class Fusion(nn.Module):
    """φ([x̂_m, r̂]): conv3 6→16 · ReLU · conv3 16→3, last layer zero so φ starts as 0."""

    def __init__(self, hidden=16):
        super().__init__()
        self.conv1 = nn.Conv2d(6, hidden, 3, padding=1)
        self.conv2 = nn.Conv2d(hidden, 3, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, xm, rh):
        return self.conv2(F.relu(self.conv1(torch.cat([xm, rh], dim=1))))


class EntropyModel:
    """Base of every entropy-side network (mixed into an nn.Module): train.py puts its parameters in the Adam
    group LR_GROUP and those of aux_parameters() under the auxiliary loss, so a new entropy model is one subclass."""

    LR_GROUP = "entropy"  # "density": the factorized densities (--density-lr-scale × lr); "entropy": --entropy-lr;
    # "context": --context-lr (a network new to a warm-started checkpoint, which must learn faster than the rest)

    def aux_parameters(self):
        return []


class FactorizedDensity(EntropyModel, nn.Module):
    """Ballé 2018 factorized prior (CompressAI EntropyBottleneck), one independent density per level.

    c(v) = sigmoid(logits_cumulative(v)); likelihood of integer-centred v = c(v+½) − c(v−½).
    Quantiles (tail 1e-9, median) are learned by an auxiliary loss and fix the CDF table ranges.
    """

    LR_GROUP = "density"
    FILTERS = (3, 3, 3)
    INIT_SCALE = 10.0
    TAIL_MASS = 1e-9
    LIKELIHOOD_BOUND = 1e-9

    def __init__(self, levels, channels):
        super().__init__()
        self.levels, self.channels = levels, channels
        dims = (1,) + self.FILTERS + (1,)
        scale = self.INIT_SCALE ** (1 / (len(self.FILTERS) + 1))
        self.matrices, self.biases, self.factors = nn.ParameterList(), nn.ParameterList(), nn.ParameterList()
        for i in range(len(self.FILTERS) + 1):
            init = math.log(math.expm1(1 / scale / dims[i + 1]))
            self.matrices.append(nn.Parameter(torch.full((levels, channels, dims[i + 1], dims[i]), init)))
            self.biases.append(nn.Parameter(torch.rand(levels, channels, dims[i + 1], 1) - 0.5))
            if i < len(self.FILTERS):
                self.factors.append(nn.Parameter(torch.zeros(levels, channels, dims[i + 1], 1)))
        q = torch.tensor([-self.INIT_SCALE, 0.0, self.INIT_SCALE])
        self.quantiles = nn.Parameter(q.repeat(levels, channels, 1, 1))  # [L, C, 1, 3]
        t = math.log(2 / self.TAIL_MASS - 1)
        self.register_buffer("target", torch.tensor([-t, 0.0, t]), persistent=False)

    def logits_cumulative(self, v, level, stop_gradient=False):
        """v: [C, 1, n] → logits [C, 1, n]."""
        logits = v
        for i in range(len(self.FILTERS) + 1):
            m, b = self.matrices[i][level], self.biases[i][level]
            if stop_gradient:
                m, b = m.detach(), b.detach()
            logits = torch.matmul(F.softplus(m), logits) + b
            if i < len(self.FILTERS):
                f = self.factors[i][level]
                if stop_gradient:
                    f = f.detach()
                logits = logits + torch.tanh(f) * torch.tanh(logits)
        return logits

    def aux_parameters(self):
        return [self.quantiles]

    def medians(self, level):
        return self.quantiles[level, :, 0, 1]

    def likelihood(self, y, level):
        """y: [B, C, H, W] (noisy or rounded) → likelihood, same shape."""
        b, c, h, w = y.shape
        v = y.permute(1, 0, 2, 3).reshape(c, 1, -1)
        lower = self.logits_cumulative(v - 0.5, level)
        upper = self.logits_cumulative(v + 0.5, level)
        sign = -torch.sign(lower + upper).detach()
        lik = torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))
        lik = lower_bound(lik, self.LIKELIHOOD_BOUND)
        return lik.reshape(c, b, h, w).permute(1, 0, 2, 3)

    def aux_loss(self):
        loss = 0.0
        for level in range(self.levels):
            logits = self.logits_cumulative(self.quantiles[level], level, stop_gradient=True)
            loss = loss + torch.abs(logits - self.target).sum()
        return loss

    @torch.no_grad()
    def pmf_tables(self, level):
        """Per channel: (start, pmf [length], tail mass), exactly the inputs of the integer CDF tables."""
        q = self.quantiles[level, :, 0, :]
        med = q[:, 1]
        below = torch.clamp(torch.ceil(med - q[:, 0]), min=0)
        above = torch.clamp(torch.ceil(q[:, 2] - med), min=0)
        start = med - below
        length = (below + above + 1).long()
        samples = torch.arange(int(length.max()), dtype=q.dtype) + start[:, None]
        samples = samples[:, None, :]
        lower = self.logits_cumulative(samples - 0.5, level)
        upper = self.logits_cumulative(samples + 0.5, level)
        sign = -torch.sign(lower + upper)
        pmf = torch.abs(torch.sigmoid(sign * upper) - torch.sigmoid(sign * lower))[:, 0, :]
        tail = torch.sigmoid(lower[:, 0, :1]) + torch.sigmoid(-upper[:, 0, -1:])
        return below.long(), length, pmf, tail[:, 0]


def ste_round(v):
    return v + (torch.round(v) - v).detach()


# Gaussian conditional: scales below SCALE_MIN are SCALE_MIN (CompressAI's 0.11); the coder's tables cover
# SCALE_COUNT log-spaced scales SCALE_MIN … SCALE_MAX (export.py builds one CDF per table scale).
SCALE_MIN, SCALE_MAX, SCALE_COUNT = 0.11, 256.0, 64


def scale_table():
    return torch.exp(torch.linspace(math.log(SCALE_MIN), math.log(SCALE_MAX), SCALE_COUNT, dtype=torch.float64))


def gaussian_likelihood(v, mean, scale):
    """P(v) of integer-centred v under N(mean, scale) convolved with U(−½, ½), bounded below."""
    scale = lower_bound(scale, SCALE_MIN)
    d = torch.abs(v - mean)
    upper = 0.5 * torch.erfc(-(0.5 - d) / scale / math.sqrt(2))
    lower = 0.5 * torch.erfc(-(-0.5 - d) / scale / math.sqrt(2))
    return lower_bound(upper - lower, FactorizedDensity.LIKELIHOOD_BOUND)


class HyperAnalysis(EntropyModel, nn.Sequential):
    def __init__(self, M, Nh):
        super().__init__(conv(M, Nh, 3, 1), nn.ReLU(), conv(Nh, Nh), nn.ReLU(), conv(Nh, Nh))


class HyperSynthesis(EntropyModel, nn.Sequential):
    """Output [μ (M), σ (M)] of the un-gained latent; σ's bias starts at 1 so early rates stay finite."""

    def __init__(self, M, Nh):
        super().__init__(TConv(Nh, Nh), nn.ReLU(), TConv(Nh, Nh), nn.ReLU(), conv(Nh, 2 * M, 3, 1))
        with torch.no_grad():
            self[-1].bias[M:] = 1.0


class ResidualContext(EntropyModel, nn.Sequential):
    """g_m's 1/8-resolution features → [μ (Mr), σ (Mr)] of the un-gained residual latent."""

    def __init__(self, N, Nh, Mr):
        super().__init__(conv(N, Nh, 3, 1), nn.ReLU(), conv(Nh, 2 * Mr, 3, 1))
        with torch.no_grad():
            self[-1].bias[Mr:] = 1.0


def anchors_like(t):
    """1 where (row + column) is even, the checkerboard's anchors, as a [1,1,H,W] mask of t's grid."""
    h, w = t.shape[2:]
    rows = torch.arange(h, device=t.device)[:, None]
    cols = torch.arange(w, device=t.device)[None, :]
    return ((rows + cols) % 2 == 0).to(t.dtype)[None, None]


class ResidualCheckerboard(EntropyModel, nn.Module):
    """Non-anchor (Δμ', Δσ') of ẑ from its decoded anchors (un-gained) and c_z's (μ', σ'); starts at Δ = 0, so a
    warm start from the hyper kind begins with that kind's rate exactly. The ycontext kind has a second one over ŷ
    (its anchors and h_s's (μ', σ'))."""

    LR_GROUP = "context"

    def __init__(self, Nh, Mr):
        super().__init__()
        self.spatial = conv(Mr, Nh, 5, 1)
        self.params = nn.Sequential(conv(2 * Mr + Nh, 2 * Nh, 1, 1), nn.ReLU(), conv(2 * Nh, 2 * Mr, 1, 1))
        with torch.no_grad():
            self.params[-1].weight.zero_()
            self.params[-1].bias.zero_()

    def forward(self, anchors, base):
        return base + self.params(torch.cat([base, self.spatial(anchors)], dim=1))


class ResidualChannel(EntropyModel, nn.Module):
    """A latent's second channel half (ẑ's; the ychannel kind's ŷ too): (Δμ', Δσ') from the first half decoded at
    the same pass's positions (anchors: k_a, others: k_o) and its own (μ', σ') so far; each starts at Δ = 0."""

    LR_GROUP = "context"

    def __init__(self, Nh, channels):
        super().__init__()
        half = channels // 2

        def net():
            n = nn.Sequential(conv(half + channels, Nh, 3, 1), nn.ReLU(), conv(Nh, channels, 1, 1))
            with torch.no_grad():
                n[-1].weight.zero_()
                n[-1].bias.zero_()
            return n

        self.anchors, self.others = net(), net()

    @staticmethod
    def second_half(params):
        """[μ', σ'] of all Mr channels → [μ', σ'] of the second half (the layout the networks read and write)."""
        mr = params.shape[1] // 2
        return torch.cat([params[:, mr // 2:mr], params[:, mr + mr // 2:]], dim=1)

    @staticmethod
    def with_second_half(params, second):
        mr = params.shape[1] // 2
        h = mr // 2
        return torch.cat([params[:, :h], second[:, :mr - h], params[:, mr:mr + h], second[:, mr - h:]], dim=1)

    def refine(self, net, first_decoded, params):
        second = self.second_half(params)
        return self.with_second_half(params, second + net(torch.cat([first_decoded, second], dim=1)))


def remap_levels(state, old_lambdas, new_lambdas):
    """Resize every per-level tensor of a checkpoint to a new λ ladder, in place.

    A λ already trained keeps its rows; a new λ starts from the nearest trained one (in log λ), with its
    gains shifted by ½·log(λ_new/λ_old) — the same rule that sets the initial gains — so it starts near
    its own rate instead of at its neighbour's. The densities then sharpen within a few hundred steps.
    """
    source = [min(range(len(old_lambdas)), key=lambda i: abs(math.log(lam / old_lambdas[i])))
              for lam in new_lambdas]
    shift = torch.tensor([0.5 * math.log(lam / old_lambdas[i]) for lam, i in zip(new_lambdas, source)])
    for name, value in state.items():
        if value.dim() > 0 and value.shape[0] == len(old_lambdas) and (name.startswith("density_")
                                                                       or name.startswith("log_gain_")):
            value = value[source].clone()
            if name.startswith("log_gain_"):
                value += shift[:, None].to(value)
            state[name] = value
    return source


def checkerboard_params(base, v, g, spatial, channel=None, rounding=ste_round):
    """[μ', σ'] (un-gained) of a latent v (gained by g) coded in checkerboard passes, as the decoder has them: the
    anchors keep `base`, the others get `spatial`'s context over the anchors quantised around their μ. With
    `channel` (a ResidualChannel), each pass codes its first channel half, then the second with the first's context."""
    c = base.shape[1] // 2
    h = c // 2
    anchor = anchors_like(base)

    def decoded(params, mask, channels=slice(None)):
        """v / g of `channels` where `mask` is 1, quantised around the params' μ (as the decoder has it)."""
        mu = params[:, :c][:, channels] * g[:, channels]
        return (rounding(v[:, channels] - mu) + mu) / g[:, channels] * mask

    refine = channel.refine if channel is not None else (lambda net, first_decoded, params: params)
    at_anchors = refine(channel.anchors if channel else None, decoded(base, anchor, slice(0, h)), base)
    others = spatial(decoded(at_anchors, anchor), base)
    others = refine(channel.others if channel else None, decoded(others, 1 - anchor, slice(0, h)), others)
    return anchor * at_anchors + (1 - anchor) * others


def crop_like(t, ref):
    return t[:, :, :ref.shape[2], :ref.shape[3]]


KINDS = ("factorized", "hyper", "checkerboard", "spacechannel", "ycontext", "ychannel")
SPATIAL_KINDS = ("checkerboard", "spacechannel", "ycontext", "ychannel")  # the kinds with ẑ's checkerboard
CHANNEL_KINDS = ("spacechannel", "ycontext", "ychannel")  # the kinds with ẑ's channel context
MAIN_SPATIAL_KINDS = ("ycontext", "ychannel")  # the kinds with ŷ's checkerboard


class AARA(nn.Module):
    def __init__(self, N=64, M=128, Nr=48, Mr=64, levels=len(LAMBDAS), kind="factorized", Nh=48):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"unknown model kind {kind!r}")
        self.kind = kind
        self.config = dict(N=N, M=M, Nr=Nr, Mr=Mr, levels=levels)
        if kind != "factorized":
            self.config.update(kind=kind, Nh=Nh)
        self.main_encoder = Analysis([3, N, N, N, M])
        self.main_attention = CBAM(M)
        self.main_decoder = Synthesis([M, N, N, N, 3])
        self.res_encoder = Analysis([3, Nr, Nr, Mr])
        self.res_attention = CBAM(Mr)
        self.res_decoder = Synthesis([Mr, Nr, Nr, 3])
        self.fusion = Fusion()
        init = torch.tensor([0.5 * math.log(lam / LAMBDA_REF) for lam in LAMBDAS[:levels]])
        self.log_gain_y = nn.Parameter(init[:, None].repeat(1, M))
        self.log_gain_z = nn.Parameter(init[:, None].repeat(1, Mr))
        if kind == "factorized":
            self.density_y = FactorizedDensity(levels, M)
            self.density_z = FactorizedDensity(levels, Mr)
        else:
            self.hyper_analysis = HyperAnalysis(M, Nh)
            self.hyper_synthesis = HyperSynthesis(M, Nh)
            self.res_context = ResidualContext(N, Nh, Mr)
            self.log_gain_w = nn.Parameter(init[:, None].repeat(1, Nh))
            self.density_w = FactorizedDensity(levels, Nh)
        if kind in SPATIAL_KINDS:
            self.res_spatial = ResidualCheckerboard(Nh, Mr)
        if kind in CHANNEL_KINDS:
            self.res_channel = ResidualChannel(Nh, Mr)
        if kind in MAIN_SPATIAL_KINDS:
            self.main_spatial = ResidualCheckerboard(Nh, M)  # the same network shape over ŷ (M channels)
        if kind == "ychannel":
            self.main_channel = ResidualChannel(Nh, M)

    def parameter_groups(self):
        """The parameters by optimizer (train.py), in model order: "network" (transforms, gains of ŷ and ẑ),
        each EntropyModel's LR_GROUP, and "aux" (the quantiles of the auxiliary loss)."""
        owner = {}
        for module in self.modules():  # parents first: a nested entropy model's own group wins
            if isinstance(module, EntropyModel):
                aux = {id(p) for p in module.aux_parameters()}
                owner.update({id(p): "aux" if id(p) in aux else module.LR_GROUP for p in module.parameters()})
        if self.kind != "factorized":
            owner[id(self.log_gain_w)] = "entropy"  # ŵ's gains are as new as the hyper networks they scale for
        groups = dict(network=[], density=[], entropy=[], context=[], aux=[])
        for p in self.parameters():
            groups[owner.get(id(p), "network")].append(p)
        return groups

    def densities(self):
        return [self.density_y, self.density_z] if self.kind == "factorized" else [self.density_w]

    def aux_loss(self):
        return sum(d.aux_loss() for d in self.densities())

    def gains(self, level):
        return torch.exp(self.log_gain_y[level]), torch.exp(self.log_gain_z[level])

    def main_latent(self, x, level):
        gy, _ = self.gains(level)
        return self.main_attention(self.main_encoder(x)) * gy[None, :, None, None]

    def res_latent(self, r, level):
        _, gz = self.gains(level)
        return self.res_attention(self.res_encoder(r)) * gz[None, :, None, None]

    def decode_main(self, y_hat, level):
        gy, _ = self.gains(level)
        return self.main_decoder(y_hat / gy[None, :, None, None])

    def decode_residual(self, z_hat, level):
        _, gz = self.gains(level)
        return self.res_decoder(z_hat / gz[None, :, None, None])

    def fuse(self, xm, rh):
        return xm + rh + self.fusion(xm, rh)

    def y_prior(self, y, level, quantize):
        """Hyperprior of ŷ: (ŵ, w's rate input, μ_y, σ_y); quantize 'noise' for training, 'round' for coding."""
        gy, _ = self.gains(level)
        gw = torch.exp(self.log_gain_w[level])[None, :, None, None]
        w = self.hyper_analysis(y / gy[None, :, None, None]) * gw
        mw = self.density_w.medians(level)[None, :, None, None]
        w_hat = torch.round(w - mw) + mw if quantize == "round" else ste_round(w - mw) + mw
        w_rate = w + torch.empty_like(w).uniform_(-0.5, 0.5) if quantize == "noise" else w_hat
        params = crop_like(self.hyper_synthesis(w_hat / gw), y)
        if self.kind in MAIN_SPATIAL_KINDS:  # ŷ's checkerboard: the anchors quantised around h_s's μ give the others context
            params = checkerboard_params(params, y, gy[None, :, None, None], self.main_spatial,
                                         getattr(self, "main_channel", None),
                                         torch.round if quantize == "round" else ste_round)
        mu, sigma = params.chunk(2, dim=1)
        return w_hat, w_rate, mu * gy[None, :, None, None], sigma * gy[None, :, None, None]

    def main_decode_split(self, y_hat, level):
        """g_m in two parts: f₈ (after the first tconv · IGDN, ẑ's grid) and x̂_m."""
        gy, _ = self.gains(level)
        f8 = self.main_decoder[1](self.main_decoder[0](y_hat / gy[None, :, None, None]))
        xm = f8
        for layer in list(self.main_decoder)[2:]:
            xm = layer(xm)
        return f8, xm

    def z_prior(self, f8, level, z=None, rounding=ste_round, channel_context=True):
        """(μ_z, σ_z) gained; for the checkerboard kind, z (gained) is quantized at the anchors (`rounding`) to give
        the non-anchors their context, as the decoder has it. `channel_context` False: the spacechannel kind without
        k_a and k_o (the ablation's)."""
        _, gz = self.gains(level)
        gz = gz[None, :, None, None]
        base = self.res_context(f8)
        if self.kind in SPATIAL_KINDS:
            channel = self.res_channel if self.kind in CHANNEL_KINDS and channel_context else None
            base = checkerboard_params(base, z, gz, self.res_spatial, channel, rounding)
        mu, sigma = base.chunk(2, dim=1)
        return mu * gz, sigma * gz

    def forward(self, x, level):
        """Training pass: noisy latents for the rate, straight-through rounding for the decoders."""
        if self.kind != "factorized":
            return self.forward_hyper(x, level)
        y = self.main_latent(x, level)
        my = self.density_y.medians(level)[None, :, None, None]
        y_hat = ste_round(y - my) + my
        lik_y = self.density_y.likelihood(y + torch.empty_like(y).uniform_(-0.5, 0.5), level)
        xm = self.decode_main(y_hat, level)
        z = self.res_latent(x - xm, level)
        mz = self.density_z.medians(level)[None, :, None, None]
        z_hat = ste_round(z - mz) + mz
        lik_z = self.density_z.likelihood(z + torch.empty_like(z).uniform_(-0.5, 0.5), level)
        rh = self.decode_residual(z_hat, level)
        return dict(x_hat=self.fuse(xm, rh), x_main=xm, lik_y=lik_y, lik_z=lik_z)

    def forward_hyper(self, x, level):
        y = self.main_latent(x, level)
        _, w_rate, mu_y, sigma_y = self.y_prior(y, level, "noise")
        lik_w = self.density_w.likelihood(w_rate, level)
        y_hat = ste_round(y - mu_y) + mu_y
        lik_y = gaussian_likelihood(y + torch.empty_like(y).uniform_(-0.5, 0.5), mu_y, sigma_y)
        f8, xm = self.main_decode_split(y_hat, level)
        z = self.res_latent(x - xm, level)
        mu_z, sigma_z = self.z_prior(f8, level, z)
        z_hat = ste_round(z - mu_z) + mu_z
        lik_z = gaussian_likelihood(z + torch.empty_like(z).uniform_(-0.5, 0.5), mu_z, sigma_z)
        rh = self.decode_residual(z_hat, level)
        return dict(x_hat=self.fuse(xm, rh), x_main=xm, lik_y=lik_y, lik_z=lik_z, lik_w=lik_w)

    @torch.no_grad()
    def compress_symbols_hyper(self, x, level):
        y = self.main_latent(x, level)
        w_hat, _, mu_y, sigma_y = self.y_prior(y, level, "round")
        mw = self.density_w.medians(level)[None, :, None, None]
        gw = torch.exp(self.log_gain_w[level])[None, :, None, None]
        gy = self.gains(level)[0][None, :, None, None]
        w_centred = self.hyper_analysis(y / gy) * gw - mw
        sy = torch.round(y - mu_y)
        y_hat = sy + mu_y
        f8, xm = self.main_decode_split(y_hat, level)
        r = x - xm
        z = self.res_latent(r, level)
        mu_z, sigma_z = self.z_prior(f8, level, z, torch.round)
        sz = torch.round(z - mu_z)
        z_hat = sz + mu_z
        rh = self.decode_residual(z_hat, level)
        bits_w = float(-torch.log2(self.density_w.likelihood(w_hat, level)).sum())
        bits_y = float(-torch.log2(gaussian_likelihood(y_hat, mu_y, sigma_y)).sum())
        bits_z = float(-torch.log2(gaussian_likelihood(z_hat, mu_z, sigma_z)).sum())
        return dict(sw=torch.round(w_centred), w=w_centred, sy=sy, sz=sz, y_hat=y_hat, z_hat=z_hat, y=y - mu_y, z=z - mu_z, mu_y=mu_y, sigma_y=sigma_y, mu_z=mu_z,
                    sigma_z=sigma_z, f8=f8, x_main=xm, residual=r, r_hat=rh, x_hat=self.fuse(xm, rh),
                    bits=bits_w + bits_y + bits_z, bits_w=bits_w, bits_y=bits_y, bits_z=bits_z)

    @torch.no_grad()
    def compress_symbols(self, x, level):
        """Inference as the engine does it: integer symbols s = round(y − μ) and the reconstructions."""
        if self.kind != "factorized":
            return self.compress_symbols_hyper(x, level)
        y = self.main_latent(x, level)
        my = self.density_y.medians(level)[None, :, None, None]
        sy = torch.round(y - my)
        xm = self.decode_main(sy + my, level)
        r = x - xm
        z = self.res_latent(r, level)
        mz = self.density_z.medians(level)[None, :, None, None]
        sz = torch.round(z - mz)
        rh = self.decode_residual(sz + mz, level)
        bits_y = float(-torch.log2(self.density_y.likelihood(sy + my, level)).sum())
        bits_z = float(-torch.log2(self.density_z.likelihood(sz + mz, level)).sum())
        return dict(sy=sy, sz=sz, y_hat=sy + my, z_hat=sz + mz, y=y - my, z=z - mz, x_main=xm, residual=r, r_hat=rh, x_hat=self.fuse(xm, rh),
                    bits=bits_y + bits_z, bits_y=bits_y, bits_z=bits_z, bits_w=0.0)


def load_checkpoint(path):
    """(the model in eval mode, the checkpoint dict) of a train.py checkpoint."""
    ck = torch.load(path, map_location="cpu")
    model = AARA(**ck["config"])
    model.load_state_dict(ck["model"])
    return model.eval(), ck


def load_image(path):
    """An image file as [1, 3, H, W] floats in [0, 1]."""
    return torch.from_numpy(np.asarray(Image.open(path).convert("RGB")).copy()).permute(2, 0, 1)[None].float() / 255


def center_crops(paths, size, count):
    """The size × size centre crops of the first `count` images of `paths` at least that large, in order."""
    crops = []
    for path in paths:
        x = load_image(path)
        h, w = x.shape[2:]
        if min(h, w) >= size:
            top, left = (h - size) // 2, (w - size) // 2
            crops.append(x[:, :, top:top + size, left:left + size])
            if len(crops) == count:
                break
    return crops


def pad_to_stride(x, stride=STRIDE):
    """Edge-replicate x [B,3,H,W] on the right and bottom to multiples of the stride."""
    h, w = x.shape[2:]
    ph, pw = (-h) % stride, (-w) % stride
    return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x


def _gaussian(size, sigma=1.5):
    g = torch.exp(-((torch.arange(size, dtype=torch.float64) - (size - 1) / 2) ** 2) / (2 * sigma ** 2))
    return g / g.sum()


MS_SSIM_WEIGHTS = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]


def ms_ssim(a, b, data_range=1.0):
    """5-scale MS-SSIM (Wang 2003), 11×11 σ=1.5 Gaussian, valid filtering, per channel then averaged.

    The window shrinks to the image at coarse scales of small training crops (full-size images use 11).
    Returns [B] values.
    """
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    channels = a.shape[1]
    weights = torch.tensor(MS_SSIM_WEIGHTS, dtype=a.dtype, device=a.device)
    values = []
    for scale in range(len(MS_SSIM_WEIGHTS)):
        size = min(11, a.shape[2], a.shape[3])
        g = _gaussian(size).to(a)
        gh = g.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)
        gv = g.view(1, 1, -1, 1).repeat(channels, 1, 1, 1)

        def blur(t):
            return F.conv2d(F.conv2d(t, gh, groups=channels), gv, groups=channels)

        mu_a, mu_b = blur(a), blur(b)
        var_a = blur(a * a) - mu_a ** 2
        var_b = blur(b * b) - mu_b ** 2
        cov = blur(a * b) - mu_a * mu_b
        cs = (2 * cov + c2) / (var_a + var_b + c2)
        ssim = (2 * mu_a * mu_b + c1) / (mu_a ** 2 + mu_b ** 2 + c1) * cs
        values.append(torch.relu((ssim if scale == len(MS_SSIM_WEIGHTS) - 1 else cs).mean(dim=(2, 3))))
        if scale < len(MS_SSIM_WEIGHTS) - 1:
            pad = (0, a.shape[3] % 2, 0, a.shape[2] % 2)
            a = F.avg_pool2d(F.pad(a, pad, mode="replicate"), 2)
            b = F.avg_pool2d(F.pad(b, pad, mode="replicate"), 2)
    stacked = torch.stack(values, dim=0)  # [5, B, C]
    return torch.prod(stacked ** weights[:, None, None], dim=0).mean(dim=1)
