/**
 * The decoder's work for a tile size, counted, not timed (this machine's timings swing by ±30 % between runs): per
 * decode tile, the regions each synthesis layer computes (decoder.ts's `synthesisRegions`) rounded out to the whole
 * Winograd tiles the kernel runs, times the layer's channels, plus φ's two 3×3 convolutions over the fused region.
 * Printed relative to one tile over the whole image: what small tiles repeat.
 * Run: node dist/bench/decode-work.js [width height [weights.bin]]
 */
import { readFileSync } from 'node:fs';
import { TOTAL_STRIDE, RESIDUAL_STRIDE, type Range } from '../src/core/types.js';
import { DECODE_TILE, defaultDecodeTile } from '../src/codec/codec.js';
import { readWeights, type Transform } from '../src/format/weights.js';
import { synthesisRegions } from '../src/model/decoder.js';
import { paddedSize } from '../src/model/preprocess.js';
import { clip, fusionInput, tileGrid } from '../src/model/tiling.js';
import { repoPath } from '../test/helpers/fixtures.js';
import { winogradTconvInput } from '../kernels/index.js';

const [width, height] = [Number(process.argv[2] ?? 768), Number(process.argv[3] ?? 512)];
const w = readWeights(new Uint8Array(readFileSync(process.argv[4] ?? repoPath('weights/aara.bin'))));
const [h, wd] = [paddedSize(height), paddedSize(width)];

/** Phase-grid positions of the whole Winograd tiles a tconv computes for its output range r: what it reads, less its 1-sample halo a side. */
const tilePositions = (r: Range): number => {
  const read = winogradTconvInput(r);
  return read.end - read.start - 2;
};

/** Multiply–adds (direct-form count: 6.25 a tconv output, 9 a 3×3 conv output) a tile's synthesis and φ take. */
function tileWork(region: { rows: Range; cols: Range }): number {
  const inner = { rows: clip(fusionInput(region.rows), h), cols: clip(fusionInput(region.cols), wd) };
  let macs = 0;
  const branch = (t: Transform, stride: number) => {
    const regions = synthesisRegions({ h: h / stride, w: wd / stride }, t.convs.length, inner);
    t.convs.forEach((c, i) => {
      // each phase-grid position gives 4 outputs, 25 taps among them
      macs += tilePositions(regions[i + 1].rows) * tilePositions(regions[i + 1].cols) * 25 * c.inC * c.outC;
    });
  };
  branch(w.mainDecoder, TOTAL_STRIDE);
  branch(w.resDecoder, RESIDUAL_STRIDE);
  const pixels = (inner.rows.end - inner.rows.start) * (inner.cols.end - inner.cols.start);
  macs += pixels * 9 * (w.fusion.conv1.inC * w.fusion.conv1.outC + w.fusion.conv2.inC * w.fusion.conv2.outC);
  return macs;
}

const work = (tile: number) => tileGrid(h, wd, tile).reduce((sum, region) => sum + tileWork(region), 0);
const whole = work(Math.max(h, wd));
console.log(`${width}×${height} (padded ${wd}×${h}), ${w.config.kind} weights; default tile ${defaultDecodeTile(h, wd)}`);
console.log('| tile | GMAC (direct-form count) | vs one whole-image tile |');
console.log('|---:|---:|---:|');
for (const tile of [DECODE_TILE / 2, DECODE_TILE, 384, 2 * DECODE_TILE, Math.max(h, wd)]) {
  console.log(`| ${tile} | ${(work(tile) / 1e9).toFixed(2)} | ${(work(tile) / whole).toFixed(3)}× |`);
}
