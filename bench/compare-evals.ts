/**
 * Two `aara eval` runs of the same images side by side: what a change of weights (or of the format) did to aara's
 * curve. Prints the BD-rate of the second run's aara curve against the first's (PSNR and MS-SSIM dB), level by level
 * the change of rate and PSNR, each classic codec's BD-rate against both aara curves (the anchors of the second run),
 * and along the curve aara's rate over JPEG 2000's at equal PSNR (each curve interpolated linearly in log-rate between
 * its settings) for both runs. The tables of bench/RESULTS.md are this output.
 * Run: node dist/bench/compare-evals.js <before eval.json> <after eval.json>
 */
import { readFileSync } from 'node:fs';
import { bdRate, type RdPoint } from '../src/eval/bd-rate.js';
import { AARA, type Average, type EvalResult } from '../src/eval/eval-report.js';

/** Qualities of the along-the-curve table, dB. */
const ALONG = [24.7, 25.5, 26.5, 27.5, 28.5, 29.5, 30.5, 31.5, 32.5, 33.5, 34.5, 35.5, 36.5, 37.0];
const ALONG_ANCHOR = 'JPEG 2000';

const [beforePath, afterPath] = process.argv.slice(2);
if (!beforePath || !afterPath) {
  console.error('usage: node dist/bench/compare-evals.js <before eval.json> <after eval.json>');
  process.exit(2);
}
const [before, after] = [beforePath, afterPath].map((path) => {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as EvalResult;
  } catch (err) {
    console.error(`compare-evals: cannot read ${path} as an eval.json: ${(err as Error).message}`);
    return process.exit(2);
  }
});
const names = (run: EvalResult) => run.dataset.images.map((image) => image.name).join(',');
if (names(before) !== names(after)) {
  console.error('compare-evals: the two runs coded different images');
  process.exit(2);
}

const curve = (run: EvalResult, codec: string): Average[] | undefined =>
  run.codecs.find((c) => c.codec === codec)?.settings.map((s) => s.average);
const psnrPoints = (c: Average[]): RdPoint[] => c.map((p) => ({ rate: p.bpp, quality: p.psnr }));
const msSsimPoints = (c: Average[]): RdPoint[] => c.map((p) => ({ rate: p.bpp, quality: p.msSsimDb }));
const percent = (v: number | undefined) => (v === undefined ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(2)} %`);

const [a, b] = [curve(before, AARA)!, curve(after, AARA)!];
console.log(`aara ${after.weights.idHex.slice(0, 8)} against aara ${before.weights.idHex.slice(0, 8)}: BD-rate (PSNR) ` +
  `${percent(bdRate(psnrPoints(a), psnrPoints(b)))}, (MS-SSIM dB) ${percent(bdRate(msSsimPoints(a), msSsimPoints(b)))}`);
if (a.length === b.length) {
  const settings = after.codecs[0].settings.map((s) => s.setting);
  console.log('level | bpp before → after | rate | PSNR before → after | dB');
  b.forEach((p, i) => console.log(`${settings[i]} | ${a[i].bpp.toFixed(4)} → ${p.bpp.toFixed(4)} | ${percent((p.bpp / a[i].bpp - 1) * 100)} | ` +
    `${a[i].psnr.toFixed(2)} → ${p.psnr.toFixed(2)} | ${(p.psnr - a[i].psnr >= 0 ? '+' : '')}${(p.psnr - a[i].psnr).toFixed(2)}`));
}

console.log('\nBD-rate of aara against (after, in brackets before): PSNR | MS-SSIM dB');
for (const codec of after.codecs.filter((c) => c.codec !== AARA)) {
  const anchor = codec.settings.map((s) => s.average);
  const row = (c: Average[]) => [bdRate(psnrPoints(anchor), psnrPoints(c)), bdRate(msSsimPoints(anchor), msSsimPoints(c))];
  const [now, then] = [row(b), row(a)];
  console.log(`${codec.codec} | ${percent(now[0])} (${percent(then[0])}) | ${percent(now[1])} (${percent(then[1])})`);
}

/** The rate of `c` at PSNR `q`, linear in log-rate between its settings; NaN outside its range. */
function rateAt(c: Average[], q: number): number {
  const points = [...c].sort((p, r) => p.psnr - r.psnr);
  for (let i = 0; i + 1 < points.length; i++) {
    const [p, r] = [points[i], points[i + 1]];
    if (q >= p.psnr && q <= r.psnr) return Math.exp(Math.log(p.bpp) + ((q - p.psnr) / (r.psnr - p.psnr)) * (Math.log(r.bpp) - Math.log(p.bpp)));
  }
  return NaN;
}

const anchor = curve(after, ALONG_ANCHOR);
if (anchor) {
  const ratio = (c: Average[], q: number) => {
    const r = rateAt(c, q) / rateAt(anchor, q);
    return Number.isNaN(r) ? '—' : r.toFixed(2);
  };
  console.log(`\naara / ${ALONG_ANCHOR} at equal PSNR, after (before):`);
  console.log(`| PSNR dB | ${ALONG.join(' | ')} |`);
  console.log(`| aara / ${ALONG_ANCHOR} | ${ALONG.map((q) => `${ratio(b, q)} (${ratio(a, q)})`).join(' | ')} |`);
}
