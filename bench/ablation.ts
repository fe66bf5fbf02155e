/**
 * Where the bits go, per latent, in real files: each weight file encodes the same images at the same levels and the
 * file's streams are summed by the latent they code (ŵ, ŷ, ẑ; the checkerboard kind's ẑ anchors and others apart).
 * bpp = 8 × stream bytes / pixels (the container's header, stream lengths and CRC are in the total only); PSNR of
 * the decoded file. The ablation of issue 13: factorized vs hyper vs checkerboard on Kodak.
 * Run: node dist/bench/ablation.js <folder of PNG/JPEG> <levels, e.g. 2,5,8> <weight file>…
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeSync, encodeSync, fileStreams } from '../src/codec/codec.js';
import { readContainer } from '../src/format/container.js';
import { psnr } from '../src/eval/metrics.js';
import { decodeImage } from '../src/io/image-io.js';
import { weightFile } from '../src/io/weight-files.js';

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
  const targets = fileStreams(w);
  for (const level of levels) {
    const bytes: Record<string, number> = {};
    let total = 0;
    let quality = 0;
    for (const img of images) {
      const file = encodeSync(img, w, { level });
      total += file.length;
      readContainer(file).streams.forEach((s, i) => {
        const key = targets[i].part === 'all' ? targets[i].latent : `${targets[i].latent} ${targets[i].part}`;
        bytes[key] = (bytes[key] ?? 0) + s.length;
      });
      quality += psnr(img.data, decodeSync(file, w).data) / images.length;
    }
    const bpp = (n = 0) => ((8 * n) / pixels).toFixed(4);
    const z = bytes.z ?? (bytes['z anchors'] ?? 0) + (bytes['z others'] ?? 0);
    const split = bytes.z === undefined ? ` (${bpp(bytes['z anchors'])} + ${bpp(bytes['z others'])})` : '';
    console.log(`${w.idHex.slice(0, 8)} | ${w.config.kind} | ${level} | ${bpp(total)} | ${bpp(bytes.hyper)} | ${bpp(bytes.y)} | ${bpp(z)}${split} | ${quality.toFixed(2)}`);
  }
}
