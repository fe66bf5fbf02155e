/**
 * Where the bits go, per latent, in real files: each weight file encodes the same images at the same levels and the
 * file's coding groups, each coded alone as a stream (a version-1 file's streams), are summed by the latent they code
 * (ŵ, ŷ, ẑ; the checkerboard kind's ẑ anchors and others apart). bpp = 8 × those bytes / pixels; the total is the real
 * file's (its header, CRC, and for the hyper kinds one chained stream instead of a stream a group); PSNR of
 * the decoded file. The ablation of issue 13: factorized vs hyper vs checkerboard on Kodak.
 * Run: node dist/bench/ablation.js <folder of PNG/JPEG> <levels, e.g. 2,5,8> <weight file>…
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { atLevel, decodeSync, encodeChain, encodeStreams, fileGroups, writeFile } from '../src/codec/codec.js';
import { psnr } from '../src/eval/metrics.js';
import { decodeImage } from '../src/io/image-io.js';
import { weightFile } from '../src/io/weight-files.js';
import { encodeLatents } from '../src/model/encoder.js';

const [dir, levelList, ...weightPaths] = process.argv.slice(2);
if (!dir || !levelList || weightPaths.length === 0) {
  console.error('usage: node dist/bench/ablation.js <folder> <levels> <weight file>…');
  process.exit(2);
}
const levels = levelList.split(',').map(Number);
const images = readdirSync(dir).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort()
  .map((f) => decodeImage(new Uint8Array(readFileSync(join(dir, f)))));
const pixels = images.reduce((n, img) => n + img.width * img.height, 0);
console.log(`${images.length} images of ${dir}, ${pixels} pixels`);
console.log('weights | kind | level | total bpp | ŵ | ŷ | ẑ (anchors + others) | PSNR (mean of images)');
for (const path of weightPaths) {
  const { weights: w } = weightFile(new Uint8Array(readFileSync(path)));
  const targets = fileGroups(w);
  for (const level of levels) {
    const bytes: Record<string, number> = {};
    let total = 0;
    let quality = 0;
    for (const img of images) {
      const at = atLevel(w, level); // encodeSync's steps
      const latents = encodeLatents(img, at.w, at.level);
      const file = writeFile(img, at.w, { level }, encodeStreams(latents, at.w, at.level));
      total += file.length;
      targets.forEach((target, i) => {
        const key = target.part === 'all' ? target.latent : `${target.latent} ${target.part}`;
        bytes[key] = (bytes[key] ?? 0) + encodeChain([i], latents, at.w, at.level).length;
      });
      quality += psnr(img.data, decodeSync(file, w).data) / images.length;
    }
    const bpp = (n = 0) => ((8 * n) / pixels).toFixed(4);
    const z = bytes.z ?? (bytes['z anchors'] ?? 0) + (bytes['z others'] ?? 0);
    const split = bytes.z === undefined ? ` (${bpp(bytes['z anchors'])} + ${bpp(bytes['z others'])})` : '';
    console.log(`${w.idHex.slice(0, 8)} | ${w.config.kind} | ${level} | ${bpp(total)} | ${bpp(bytes.hyper)} | ${bpp(bytes.y)} | ${bpp(z)}${split} | ${quality.toFixed(2)}`);
  }
}
