"""Train AARA from scratch, or resume from the last checkpoint. Same command on CPU and CUDA.

    python3 train/train.py --data ../shared/datasets/train [--minutes 150]
    python3 train/train.py --kind hyper --data ../shared/datasets/train --init-from train/checkpoints/aara.pt

--kind hyper trains the hyperprior kind (model.py) in train/checkpoints/aara-hyper.pt; with no checkpoint of its
own it warm-starts from --init-from (the trained transforms and gains; new entropy networks start fresh) and
keeps the transforms fixed for --freeze-steps so the new priors stop pulling them around while they are wild.
The last --decay-fraction of each run's minutes runs at lr/10 (and every step from --decay-at-step).

Loss per batch (one level q drawn per batch): bpp + λ_q·(255²·MSE + γ·(1 − MS-SSIM)); the quantile
auxiliary loss has its own optimizer. Every step appends a row to train/logs/train_log.csv; the
checkpoint train/checkpoints/aara.pt is rewritten atomically every --checkpoint-minutes and on SIGTERM.
"""
import argparse
import csv
import glob
import math
import os
import random
import signal
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import AARA, KINDS, LAMBDAS, ms_ssim, remap_levels  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
LOG_FIELDS = ["step", "hours", "level", "lmbda", "loss", "bpp", "psnr", "ms_ssim", "aux", "lr"]


def load_images(root, min_side):
    if not os.path.isdir(root):
        sys.exit(f"train.py: training data folder not found: {root}")
    paths = sorted(p for p in glob.glob(os.path.join(root, "**", "*"), recursive=True)
                   if p.lower().endswith(IMAGE_EXTENSIONS) and "kodak" not in p.lower())
    images = []
    for p in paths:
        a = np.asarray(Image.open(p).convert("RGB"))
        if min(a.shape[:2]) >= min_side:
            images.append(a)
    if not images:
        sys.exit(f"train.py: no training images of at least {min_side}px in {root}")
    return images, paths


def random_batch(images, batch, crop, rng):
    """Crops drawn in proportion to image area (each training pixel equally likely), flipped at random."""
    out = np.empty((batch, crop, crop, 3), dtype=np.uint8)
    cumulative = random_batch.cumulative.get(id(images))
    if cumulative is None:
        cumulative = random_batch.cumulative[id(images)] = np.cumsum([a.shape[0] * a.shape[1] for a in images])
    for i in range(batch):
        a = images[int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))]
        y = rng.randrange(a.shape[0] - crop + 1)
        x = rng.randrange(a.shape[1] - crop + 1)
        c = a[y:y + crop, x:x + crop]
        if rng.random() < 0.5:
            c = c[:, ::-1]
        if rng.random() < 0.5:
            c = c[::-1]
        out[i] = c
    return torch.from_numpy(out).permute(0, 3, 1, 2).float().div_(255)


random_batch.cumulative = {}


def atomic_save(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="folder of training images (searched recursively)")
    ap.add_argument("--kind", choices=KINDS, default="factorized")
    ap.add_argument("--checkpoint", help="default train/checkpoints/aara.pt, aara-<kind>.pt for other kinds")
    ap.add_argument("--log", help="default train/logs/train_log.csv, train_log_<kind>.csv for other kinds")
    ap.add_argument("--init-from", help="warm start a new --kind from this checkpoint's transforms and gains")
    ap.add_argument("--freeze-steps", type=int, default=1000, help="after a warm start, steps with fixed transforms")
    ap.add_argument("--entropy-lr", type=float, default=3e-4, help="learning rate of h_a, h_s, c_z (fresh networks)")
    ap.add_argument("--context-lr", type=float, default=1e-3,
                    help="learning rate of the checkerboard's s_z, e_z (new beside a trained hyper checkpoint)")
    ap.add_argument("--decay-fraction", type=float, default=0.12, help="last fraction of --minutes at lr/10")
    ap.add_argument("--decay-at-step", type=int, default=10 ** 9,
                    help="lr/10 from this step on too (to repeat another run's schedule step for step)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--crop", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--density-lr-scale", type=float, default=10.0)
    ap.add_argument("--gamma", type=float, default=50.0, help="weight of (1 − MS-SSIM) next to 255²·MSE")
    ap.add_argument("--minutes", type=float, default=150.0, help="wall-clock budget of this run")
    ap.add_argument("--max-steps", type=int, default=10 ** 9)
    ap.add_argument("--checkpoint-minutes", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="CPU threads; on 2 cores, 1 while other work runs (2 contended threads are 4× slower)")
    args = ap.parse_args()
    suffix = "" if args.kind == "factorized" else f"-{args.kind}"
    args.checkpoint = args.checkpoint or os.path.join(HERE, "checkpoints", f"aara{suffix}.pt")
    args.log = args.log or os.path.join(HERE, "logs", f"train_log{suffix.replace('-', '_')}.csv")

    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    images, paths = load_images(args.data, args.crop)
    print(f"{len(images)} training images from {args.data}; device {device}", flush=True)

    model = AARA(kind=args.kind).to(device)
    network, density, entropy, context, quantiles = model.parameter_groups().values()
    main_params = network + density + entropy + context
    # the factorized densities start ±10 wide and must sharpen to ±1: a 10× rate gets them there in
    # hundreds of steps instead of thousands (they are a few thousand well-conditioned parameters)
    groups = [dict(params=network, lr=args.lr), dict(params=density, lr=args.lr * args.density_lr_scale)]
    if entropy:
        groups.append(dict(params=entropy, lr=args.entropy_lr))
    if context:
        groups.append(dict(params=context, lr=args.context_lr))
    opt = torch.optim.Adam(groups)
    aux_opt = torch.optim.Adam(quantiles, lr=5e-3)  # quantiles start at ±10 and must travel
    step, hours, warm_start_step = 0, 0.0, None
    rng = random.Random(args.seed)
    if not os.path.exists(args.checkpoint) and args.init_from:
        ck = torch.load(args.init_from, map_location=device)
        if list(ck["lambdas"]) != LAMBDAS:
            remap_levels(ck["model"], ck["lambdas"], LAMBDAS)
        own = model.state_dict()
        kept = {n: v for n, v in ck["model"].items() if n in own and own[n].shape == v.shape}
        model.load_state_dict(kept, strict=False)
        step, hours, warm_start_step = ck["step"], ck["hours"], ck["step"]
        fresh = sorted({n.split(".")[0] for n in own if n not in kept})
        print(f"warm start from {args.init_from} (step {step}): {len(kept)} tensors kept, fresh: {', '.join(fresh)}",
              flush=True)
    elif os.path.exists(args.checkpoint):
        ck = torch.load(args.checkpoint, map_location=device)
        same_ladder = list(ck["lambdas"]) == LAMBDAS
        if not same_ladder:
            source = remap_levels(ck["model"], ck["lambdas"], LAMBDAS)
            print(f"λ ladder changed {ck['lambdas']} → {LAMBDAS}: new levels start from old levels {source}; "
                  "optimizer states start afresh", flush=True)
        model.load_state_dict(ck["model"])
        # the Adam states live beside the checkpoint (git-ignored: they would double the committed file); older
        # checkpoints hold them inside; a clone without them resumes with fresh optimizer states
        opt_path = args.checkpoint + ".opt"
        states = torch.load(opt_path, map_location=device) if os.path.exists(opt_path) else ck
        if same_ladder and "opt" in states and len(states["opt"]["param_groups"]) == len(opt.param_groups):
            opt.load_state_dict(states["opt"])
            aux_opt.load_state_dict(states["aux_opt"])
        elif same_ladder:
            print("no optimizer state for this layout: it starts afresh", flush=True)
        step, hours, warm_start_step = ck["step"], ck["hours"], ck.get("warm_start_step")
        rng.setstate(ck["rng"])
        torch.set_rng_state(ck["torch_rng"])
        print(f"resumed from {args.checkpoint} at step {step} ({hours:.2f} h)", flush=True)
    base_lrs = [args.lr, args.lr * args.density_lr_scale, args.entropy_lr, args.context_lr][:len(opt.param_groups)]

    def set_lrs(elapsed_minutes):
        late = elapsed_minutes > (1 - args.decay_fraction) * args.minutes or step >= args.decay_at_step
        decay = 0.1 if late else 1.0
        frozen = warm_start_step is not None and step < warm_start_step + args.freeze_steps
        for i, (group, lr) in enumerate(zip(opt.param_groups, base_lrs)):
            group["lr"] = 0.0 if frozen and i == 0 else lr * decay
        return decay

    os.makedirs(os.path.dirname(args.checkpoint), exist_ok=True)
    os.makedirs(os.path.dirname(args.log), exist_ok=True)
    new_log = not os.path.exists(args.log)
    log_file = open(args.log, "a", newline="")
    log = csv.writer(log_file)
    fields = LOG_FIELDS + (["bpp_w", "bpp_y", "bpp_z"] if args.kind != "factorized" else [])
    if new_log:
        log.writerow(fields)

    def save():
        atomic_save(dict(opt=opt.state_dict(), aux_opt=aux_opt.state_dict()), args.checkpoint + ".opt")
        atomic_save(dict(model=model.state_dict(),
                         step=step, hours=hours, warm_start_step=warm_start_step, rng=rng.getstate(),
                         torch_rng=torch.get_rng_state(),
                         config=model.config, lambdas=LAMBDAS, args=vars(args)), args.checkpoint)
        log_file.flush()
        print(f"checkpoint at step {step} ({hours:.2f} h)", flush=True)

    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))

    start = time.time()
    last_save = start
    last_tick = start
    while not stop["now"] and step < args.max_steps and time.time() - start < args.minutes * 60:
        level = rng.randrange(len(LAMBDAS))
        lam = LAMBDAS[level]
        decay = set_lrs((time.time() - start) / 60)
        x = random_batch(images, args.batch, args.crop, rng).to(device)
        out = model(x, level)
        pixels = x.shape[0] * x.shape[2] * x.shape[3]
        latent_bpp = {k: -torch.log2(out[f"lik_{k}"]).sum() / pixels for k in "wyz" if f"lik_{k}" in out}
        bpp = sum(latent_bpp.values())
        mse = torch.mean((out["x_hat"] - x) ** 2)
        msssim = ms_ssim(out["x_hat"].clamp(0, 1), x).mean()
        loss = bpp + lam * (255 ** 2 * mse + args.gamma * (1 - msssim))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(main_params, 1.0)
        opt.step()
        aux = model.aux_loss()
        aux_opt.zero_grad()
        aux.backward()
        aux_opt.step()

        now = time.time()
        hours += (now - last_tick) / 3600
        last_tick = now
        step += 1
        psnr = 10 * math.log10(1 / max(mse.item(), 1e-12))
        log.writerow([step, f"{hours:.4f}", level, lam, f"{loss.item():.5f}", f"{bpp.item():.5f}", f"{psnr:.3f}",
                      f"{msssim.item():.5f}", f"{aux.item():.2f}", f"{opt.param_groups[0]['lr']:.3g}"]
                     + [f"{latent_bpp[k].item():.5f}" for k in "wyz" if k in latent_bpp and len(fields) > len(LOG_FIELDS)])
        if step % 50 == 0:
            print(f"step {step} level {level} loss {loss.item():.4f} bpp {bpp.item():.4f} psnr {psnr:.2f} "
                  f"ms-ssim {msssim.item():.4f} aux {aux.item():.1f} "
                  + " ".join(f"{k} {v.item():.3f}" for k, v in latent_bpp.items()) + f" lr×{decay:g}", flush=True)
        if now - last_save > args.checkpoint_minutes * 60:
            save()
            last_save = now
    save()
    log_file.close()


if __name__ == "__main__":
    main()
