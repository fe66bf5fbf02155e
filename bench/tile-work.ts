/**
 * The work of a decode and of an encode for a tile shape, counted, not timed (this machine's timings swing by ±30 %
 * between runs). Decode: per tile, the regions each synthesis layer computes (decoder.ts's `synthesisRegions`)
 * rounded out to the whole Winograd tiles the kernel runs, plus φ's two 3×3 convolutions over the fused region.
 * Encode: per f_m tile, the analysis over the pixels `analyzeRegion` reads (each layer's whole Winograd tiles); per
 * f_r tile, g_m over those pixels (x − x̂_m, as the decoder's branch) and f_r's analysis. Multiply–adds in the direct
 * form (25 a 5×5 output and channel pair, 9 a 3×3 one), relative to one tile over the whole image: what tiles repeat.
 * The "2 workers" column is when two workers (equal speeds) finish, each taking the next tile as it frees, stage after
 * stage (an encode's f_r tiles wait for ŷ): the pool's time, as a share of the whole image's work. Up to 1 Mpixel (a
 * decode) or 768×512 (an encode) the pool runs a layer at a time in bands of rows instead (src/parallel/bands.ts):
 * priced the same way, a round a stage, its largest bands first.
 * Run: node dist/bench/tile-work.js [width height [weights.bin]]
 */
import { readFileSync } from 'node:fs';
import { TOTAL_STRIDE, RESIDUAL_STRIDE, type Range, type Region } from '../src/core/types.js';
import { defaultDecodeTile } from '../src/codec/codec.js';
import { readWeights, type Transform } from '../src/format/weights.js';
import { synthesisRegions } from '../src/model/decoder.js';
import { encodeTile } from '../src/model/encoder.js';
import { paddedSize } from '../src/model/preprocess.js';
import { analysisPixels, clip, fusionInput, squareTile, tileGrid, type TileShape } from '../src/model/tiling.js';
import { poolDecodeTile, poolEncodeTile } from '../src/parallel/parallel.js';
import { bandRows, decodesInBands, encodesInBands } from '../src/parallel/bands.js';
import { repoPath } from '../test/helpers/fixtures.js';
import { winogradTconvInput } from '../kernels/index.js';
import { alignedStart, Dim } from '../kernels/winograd.js';

const [width, height] = [Number(process.argv[2] ?? 768), Number(process.argv[3] ?? 512)];
const w = readWeights(new Uint8Array(readFileSync(process.argv[4] ?? repoPath('weights/aara.bin'))));
const [h, wd] = [paddedSize(height), paddedSize(width)];
const size = (r: Range) => r.end - r.start;

/** Phase-grid positions of the whole Winograd tiles a tconv computes for its output range r: what it reads, less its 1-sample halo a side. */
const tconvPositions = (r: Range): number => size(winogradTconvInput(r)) - 2;
/** Outputs of the whole Winograd tiles a stride-2 conv computes from input range r (tiles on the whole image's grid). */
const convPositions = (r: Range): number => alignedStart((r.end >> 1) - 1) + Dim.TILE - alignedStart(r.start >> 1);

/** g_m or g_r over a pixel region of the padded image, `stride` its latent's. */
function synthesisWork(t: Transform, stride: number, region: Region): number {
  const regions = synthesisRegions({ h: h / stride, w: wd / stride }, t.convs.length, region);
  // each phase-grid position gives 4 outputs, 25 taps among them
  return t.convs.reduce((sum, c, i) => sum + tconvPositions(regions[i + 1].rows) * tconvPositions(regions[i + 1].cols) * 25 * c.inC * c.outC, 0);
}

/** f_m or f_r over a tile of its latent: the pixels analyzeRegion reads, then each layer's whole tiles. */
function analysisWork(t: Transform, latentRegion: Region): { macs: number; pixels: Region } {
  const pixels = analysisPixels(t.convs.length, latentRegion, { h, w: wd });
  let input = pixels, macs = 0;
  for (const c of t.convs) {
    macs += convPositions(input.rows) * convPositions(input.cols) * 25 * c.inC * c.outC;
    input = { rows: { start: input.rows.start / 2, end: input.rows.end / 2 }, cols: { start: input.cols.start / 2, end: input.cols.end / 2 } };
  }
  return { macs, pixels };
}

function decodeTileWork(region: Region): number {
  const inner = { rows: clip(fusionInput(region.rows), h), cols: clip(fusionInput(region.cols), wd) };
  const phi = size(inner.rows) * size(inner.cols) * 9 * (w.fusion.conv1.inC * w.fusion.conv1.outC + w.fusion.conv2.inC * w.fusion.conv2.outC);
  return synthesisWork(w.mainDecoder, TOTAL_STRIDE, inner) + synthesisWork(w.resDecoder, RESIDUAL_STRIDE, inner) + phi;
}

/**
 * A banded decode on 2 workers: round r is layer r of g_m and of g_r (g_m's first counted even where ŷ's head holds it,
 * as in a tile's count), a band of rows a task; then φ a band a task, with its 2 rows a side.
 */
function decodeBandStages(): number[][] {
  const branches = [{ t: w.mainDecoder, stride: TOTAL_STRIDE }, { t: w.resDecoder, stride: RESIDUAL_STRIDE }];
  const rounds = Math.max(...branches.map((b) => b.t.convs.length));
  const stages: number[][] = [];
  for (let r = 0; r < rounds; r++) {
    const works: number[] = [];
    for (const { t, stride } of branches) {
      if (r >= t.convs.length) continue;
      const c = t.convs[r], out = { h: (h / stride) * 2 ** (r + 1), w: (wd / stride) * 2 ** (r + 1) };
      for (const rows of bandRows(out.h, 2)) works.push(tconvPositions(rows) * tconvPositions({ start: 0, end: out.w }) * 25 * c.inC * c.outC);
    }
    stages.push(works.sort((a, b) => b - a));
  }
  const phi = (rows: Range) => size(clip(fusionInput(rows), h)) * wd * 9 * (w.fusion.conv1.inC * w.fusion.conv1.outC + w.fusion.conv2.inC * w.fusion.conv2.outC);
  stages.push(bandRows(h, 2).map(phi));
  return stages;
}

/** A banded encode on 2 workers: f_m's layers a round each, then g_m's (for x̂_m), then f_r's, each a band of rows a task. */
function encodeBandStages(): number[][] {
  const analysisRounds = (t: Transform) => t.convs.map((c, i) => {
    const out = { h: h / 2 ** (i + 1), w: wd / 2 ** (i + 1) };
    const across = convPositions({ start: 0, end: 2 * out.w });
    return bandRows(out.h, 2).map((rows) => convPositions({ start: 2 * rows.start, end: 2 * rows.end }) * across * 25 * c.inC * c.outC).sort((a, b) => b - a);
  });
  const synthesisRounds = (t: Transform, stride: number) => t.convs.map((c, i) => {
    const out = { h: (h / stride) * 2 ** (i + 1), w: (wd / stride) * 2 ** (i + 1) };
    return bandRows(out.h, 2).map((rows) => tconvPositions(rows) * tconvPositions({ start: 0, end: out.w }) * 25 * c.inC * c.outC).sort((a, b) => b - a);
  });
  return [...analysisRounds(w.mainEncoder), ...synthesisRounds(w.mainDecoder, TOTAL_STRIDE), ...analysisRounds(w.resEncoder)];
}

/** An encode's tiles, as the encoder runs them: f_m's over the 1/16 grid, then (once ŷ is quantised) f_r's over the 1/8 grid. */
function encodeStages(rows: number, cols: number): number[][] {
  const latent = (stride: number) => tileGrid(h / stride, wd / stride, rows / stride, cols / stride);
  return [
    latent(TOTAL_STRIDE).map((r) => analysisWork(w.mainEncoder, r).macs),
    latent(RESIDUAL_STRIDE).map((r) => {
      const { macs, pixels } = analysisWork(w.resEncoder, r);
      return macs + synthesisWork(w.mainDecoder, TOTAL_STRIDE, pixels);
    }),
  ];
}

/** When `workers` finish a call's stages, one after the other, each worker taking the next tile as it frees. */
function finish(stages: number[][], workers: number): number {
  return stages.reduce((sum, works) => {
    const loads = new Array<number>(workers).fill(0);
    for (const work of works) loads[loads.indexOf(Math.min(...loads))] += work;
    return sum + Math.max(...loads);
  }, 0);
}

/** The shapes to price: squares, the image's halves either way, whole, and the defaults. */
const shapes = (defaults: TileShape[]): TileShape[] => [
  ...[256, 384, 512, 1024].map(squareTile), { rows: h, cols: Math.ceil(wd / 32) * 16 }, { rows: Math.ceil(h / 32) * 16, cols: wd }, { rows: h, cols: wd },
  ...defaults,
].filter((a, i, all) => all.findIndex((b) => b.rows === a.rows && b.cols === a.cols) === i);

/** `pool`: the pool's default tile, or its bands' stages where it decodes in bands. */
function table(title: string, stages: (rows: number, cols: number) => number[][], sync: TileShape, pool: TileShape | number[][]): void {
  const bands = Array.isArray(pool) ? pool : undefined;
  const sum = (v: number[][]) => v.flat().reduce((a, b) => a + b, 0);
  const whole = sum(stages(h, wd));
  const is = (a: TileShape, b: TileShape) => a.rows === b.rows && a.cols === b.cols;
  console.log(`\n${title}\n`);
  console.log('| tile (rows × columns) | tiles | GMAC (direct-form count) | vs one whole-image tile | 2 workers: finish |');
  console.log('|---|---:|---:|---:|---:|');
  for (const shape of shapes(bands ? [sync] : [sync, pool as TileShape])) {
    const v = stages(shape.rows, shape.cols);
    const label = `${shape.rows} × ${shape.cols}${is(shape, sync) ? ' (sync default)' : ''}${!bands && is(shape, pool as TileShape) ? ' (default on 2 workers)' : ''}`;
    console.log(`| ${label} | ${v.flat().length} | ${(sum(v) / 1e9).toFixed(2)} | ${(sum(v) / whole).toFixed(3)}× | ${(finish(v, 2) / whole).toFixed(3)}× |`);
  }
  if (bands) {
    console.log(`| layer bands (default on 2 workers) | ${bands.flat().length} | ${(sum(bands) / 1e9).toFixed(2)} | ${(sum(bands) / whole).toFixed(3)}× | ${(finish(bands, 2) / whole).toFixed(3)}× |`);
  }
}

console.log(`${width}×${height} (padded ${wd}×${h}), ${w.config.kind} weights`);
table('decode', (rows, cols) => [tileGrid(h, wd, rows, cols).map(decodeTileWork)], squareTile(defaultDecodeTile(h, wd)),
  decodesInBands(h, wd) ? decodeBandStages() : squareTile(poolDecodeTile(h, wd, 2)));
table('encode', encodeStages, encodeTile({ h, w: wd }), encodesInBands(h, wd) ? encodeBandStages() : poolEncodeTile(h, wd, 2));
