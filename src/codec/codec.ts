/**
 * The synchronous codec: image → .aara bytes → image. This is the truth; the worker pool only splits
 * the same work across threads and must give byte-identical results.
 */
import { TOTAL_STRIDE, type CdfTables, type Latent, type Latents, type Range, type Region, type Symbols, type Tensor } from '../core/types.js';
import { CHANNELS_PER_GROUP, channelGroups, latentGroupBytes, putLatentGroup, settle, takeLatentGroup, type LatentPart } from '../model/bottleneck.js';
import { RansDecoder, RansEncoder } from '../entropy/rans.js';
import { checkBudget, type Budget } from '../core/budget.js';
import { FLAG_GRAYSCALE, LEVEL_STEPS, readContainer, resolveLimits, WEIGHTS_ID_BYTES, writeContainer, type Container, type Limits } from '../format/container.js';
import { ENCODE_TILE, encodeLatents, encodeTileCount, latentsFromFeatures, mainAnalysis } from '../model/encoder.js';
import { fail } from '../core/errors.js';
import { paddedSize, writeRgbTile } from '../model/preprocess.js';
import { decodeRegion, fusionBand } from '../model/decoder.js';
import { finishPass, hyperGrid, mainBandRows, mainCenters, mainSteps, priorBand, residualSteps, startPass, withCenters, type LatentStep, type PriorPass, type SteppedLatent } from '../model/priors.js';
import { recycle, tensor } from '../model/tensor.js';
import { squareTile, tileGrid, type TileShape } from '../model/tiling.js';
import type { RgbImage } from '../io/pixels.js';
import { gaussianSet, hexBytes, type Weights } from '../format/weights.js';

/** The level used when none is asked for: λ = 0.013 on the shipped model, ≈ 0.7 bpp on Kodak. */
export const DEFAULT_LEVEL = 5;

/** DEFAULT_LEVEL, or the best level of a model that has fewer. */
export function defaultLevel(w: Weights): number {
  return Math.min(DEFAULT_LEVEL, w.config.levels - 1);
}

export interface EncodeOptions extends Budget {
  /** size limits of the image (merged over DEFAULT_LIMITS) */
  limits?: Partial<Limits>;
  /** quality level, 0 (smallest file) … levels−1 (best quality) */
  level: number;
  /** informative flag stored in the file */
  grayscale?: boolean;
  /** tile size in pixels (a multiple of TOTAL_STRIDE, 16); any size gives the same bytes */
  tile?: number;
  /** progress: called after each analysis tile (f_m's, then f_r's) with the tiles done and their total */
  onTile?: TileProgress;
}

/** Progress of one call in spatial tiles (or a pooled decode's bands), the bulk of its work: `done` of `total` finished. */
export type TileProgress = (done: number, total: number) => void;

/** Calls `onTile` with a running count of `total` tiles. */
export function tileCounter(total: number, onTile?: TileProgress): () => void {
  let done = 0;
  return onTile ? () => onTile(++done, total) : () => {};
}

export interface DecodeOptions extends Budget {
  /** size limits of the declared image (merged over DEFAULT_LIMITS) */
  limits?: Partial<Limits>;
  /** tile size in pixels (a multiple of TOTAL_STRIDE); any size gives the same bytes */
  tile?: number;
  /**
   * progress: called after each synthesis tile with the tiles done and their total (a pooled decode without `tile` of up
   * to 1 Mpixel counts its bands, every layer's and φ's: src/parallel/parallel.ts)
   */
  onTile?: TileProgress;
}

/**
 * Decoder tiles: 256 px hold a tile's activations near 10 MB. Each layer computes its whole Winograd tiles around the
 * region (tiling.ts), so small tiles repeat work: at 768×512, 256-px tiles do 18 % more than one tile over the whole
 * image, 512-px ones 5 % (counted: bench/tile-work.ts).
 */
export const DECODE_TILE = 256;
/**
 * Up to this many padded pixels (2048×2048), the default decode tile is twice DECODE_TILE: 11–13 % less work at
 * 768×512 … 2048×2048, for ≈ 25 MB more peak RSS (768×512: 154 against 129 MB); larger images keep their peak.
 */
const LARGE_DECODE_PIXELS = 4 * 1024 * 1024;

/** The default decode tile of a padded image h × w: any tile gives the same bytes. */
export function defaultDecodeTile(h: number, w: number): number {
  return h * w > LARGE_DECODE_PIXELS ? DECODE_TILE : 2 * DECODE_TILE;
}

export function checkLevel(level: number, w: Weights): void {
  if (!(typeof level === 'number' && level >= 0 && level <= w.config.levels - 1 && Number.isInteger(level * LEVEL_STEPS))) {
    fail('BAD_LEVEL', `level ${level} (this model has levels 0…${w.config.levels - 1}, in steps of 1/${LEVEL_STEPS} between them)`);
  }
  if (!Number.isInteger(level) && !w.hyper) fail('BAD_LEVEL', `level ${level}: the factorized kind has tables for whole levels only`);
}

/**
 * Quality 0…100 (as cwebp's and avifenc's -q) as a level position: 0 the smallest level, 100 the best, linear in
 * between, in steps of 1/LEVEL_STEPS of a level (the factorized kind: the nearest whole level).
 */
export function levelOfQuality(quality: number, w: Weights): number {
  if (!(typeof quality === 'number' && quality >= 0 && quality <= 100)) fail('BAD_LEVEL', `quality ${String(quality)} (0 … 100)`);
  const steps = w.hyper ? LEVEL_STEPS : 1;
  return Math.round((quality / 100) * (w.config.levels - 1) * steps) / steps;
}

/** The level an encode codes at: `level`, or `quality` mapped onto the levels, or the default (not both: BAD_ARGUMENT). */
export function encodeLevel(opts: { level?: number; quality?: number }, w: Weights): number {
  if (opts.level !== undefined && opts.quality !== undefined) fail('BAD_ARGUMENT', 'level and quality exclude each other');
  return opts.level ?? (opts.quality !== undefined ? levelOfQuality(opts.quality, w) : defaultLevel(w));
}

const modelsBetweenLevels = new WeakMap<Weights, Map<number, Weights>>();

/**
 * The model a level position codes with, and its whole level l = ⌊level⌋. A whole level is the model itself.
 * Between levels l and l+1 (hyper kind: its Gaussian tables fit any scale) the gains of ŷ and ẑ are interpolated,
 * g = g_l + t·(g_{l+1} − g_l), t = level − l, rounded to float32 (+ − × only: the same in every engine), into row l
 * of a copy of the gain tables; ŵ keeps level l's gains and tables. Cached per model and position.
 */
export function atLevel(w: Weights, level: number): { w: Weights; level: number } {
  const whole = Math.floor(level);
  if (whole === level) return { w, level };
  let models = modelsBetweenLevels.get(w);
  if (!models) modelsBetweenLevels.set(w, (models = new Map()));
  let between = models.get(level);
  if (!between) {
    const t = level - whole;
    const interpolate = (gains: Float32Array, channels: number) => {
      const out = gains.slice();
      for (let c = 0; c < channels; c++) {
        const a = gains[whole * channels + c];
        out[whole * channels + c] = Math.fround(a + t * (gains[(whole + 1) * channels + c] - a));
      }
      return out;
    };
    between = { ...w, gainY: interpolate(w.gainY, w.config.M), gainZ: interpolate(w.gainZ, w.config.Mr) };
    models.set(level, between);
  }
  return { w: between, level: whole };
}

/** Tiles must fall on the 16-px latent grid (the encoder also tiles the 1/16 latent). */
function checkTile(tile: number): void {
  if (!Number.isInteger(tile) || tile < TOTAL_STRIDE || tile % TOTAL_STRIDE !== 0) {
    fail('BAD_ARGUMENT', `tile ${tile} is not a positive multiple of ${TOTAL_STRIDE}`);
  }
}

function checkImage(img: RgbImage, limits: Limits): void {
  const { width, height } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    fail('BAD_DIMENSIONS', `${width}×${height}`);
  }
  if (width > limits.maxWidth || height > limits.maxHeight || width * height > limits.maxPixels) {
    fail('TOO_LARGE', `${width}×${height} (limits ${limits.maxWidth}×${limits.maxHeight}, ${limits.maxPixels} pixels)`);
  }
  if (img.data.length !== width * height * 3) fail('BAD_PIXELS', `expected ${width * height * 3} RGB bytes, got ${img.data.length}`);
}

/** Everything encodeSync refuses before it starts. */
export function checkEncode(img: RgbImage, w: Weights, opts: EncodeOptions): void {
  checkLevel(opts.level, w);
  checkImage(img, resolveLimits(opts.limits));
  checkTile(opts.tile ?? ENCODE_TILE);
  checkBudget(opts);
}

/**
 * A file's coding groups, in decoding order: the hyper kinds' ŵ channel groups first, then ŷ's, then ẑ's, step by
 * step (mainSteps, residualSteps: the checkerboard kinds' anchors, then their other elements; the spacechannel kind's
 * in channel halves). Each group codes one channel group of one latent (or of a part of it) with that latent's
 * tables at the file's level. The file's streams hold them as fileChains says.
 */
export interface CodingGroup {
  latent: keyof Latents;
  part: LatentPart;
  channels: Range;
  /** ŷ, ẑ: the index of its step in mainSteps, residualSteps */
  step?: number;
}

export function fileGroups(w: Weights): CodingGroup[] {
  const { Nh } = w.config;
  const whole = (latent: keyof Latents, channels: number): CodingGroup[] =>
    channelGroups({ start: 0, end: channels }).map((group) => ({ latent, part: 'all', channels: group }));
  // a step over half of ŷ's elements codes twice the channels a group, so that its groups code as many elements as
  // the other kinds' ŷ groups do (ẑ's keep 32 channels a group: its version-1 files were written so)
  const y = mainSteps(w).flatMap(({ part, channels }, step) =>
    channelGroups(channels, part === 'all' ? CHANNELS_PER_GROUP : 2 * CHANNELS_PER_GROUP)
      .map((group): CodingGroup => ({ latent: 'y', part, channels: group, step })));
  const z = residualSteps(w).flatMap(({ part, channels }, step) =>
    channelGroups(channels).map((group): CodingGroup => ({ latent: 'z', part, channels: group, step })));
  return [...(w.hyper ? whole('hyper', Nh) : []), ...y, ...z];
}

/**
 * The container version this encoder writes for a model: 1 for the factorized kind (each group its own stream, all
 * decoded side by side), 2 for the hyper kinds, whose groups are decoded one stage after another anyway.
 */
export function fileVersion(w: Weights): number {
  return w.hyper ? 2 : 1;
}

/**
 * The file's streams as lists of coding groups (indexes into fileGroups), in file order. Version 1: one group a
 * stream. Version 2 (hyper kinds only): every group chained in ONE rANS stream, in decoding order — a stream costs a
 * 4-byte length and a 4-byte final state of which ≈ 3 bytes carry nothing (the coder starts at L = 2^23): a ychannel
 * file's 10 groups in one stream are 67–69 bytes smaller (measured, Kodak), −0.6 points of BD-rate against JPEG 2000.
 */
export function fileChains(w: Weights, version = fileVersion(w)): number[][] {
  const groups = fileGroups(w).map((_, i) => i);
  return version === 1 ? groups.map((i) => [i]) : [groups];
}

/** The CDF tables a latent is coded with at this (whole) level: its factorized prior's, or the Gaussian conditional's. */
function latentTables(latent: keyof Latents, w: Weights, level: number): CdfTables {
  if (!w.hyper) return (latent === 'y' ? w.entropyY! : w.entropyZ!).tables[level];
  return latent === 'hyper' ? w.hyper.entropyW.tables[level] : gaussianSet(w.hyper.gaussian, latent, level);
}

function groupLatent(index: number, latents: Latents, w: Weights): { latent: Latent; group: CodingGroup } {
  const group = fileGroups(w)[index];
  const latent = latents[group.latent];
  if (!latent) return fail('INTERNAL', `group ${index} codes a ${group.latent} latent this file has not got`);
  return { latent, group };
}

/** Stream `chain` of a file: its coding groups in one rANS stream (pushed last group first: rANS is LIFO). */
export function encodeChain(chain: number[], latents: Latents, w: Weights, level: number): Uint8Array {
  const coded = chain.map((index) => groupLatent(index, latents, w));
  const encoder = new RansEncoder(coded.reduce((n, { latent, group }) => n + latentGroupBytes(latent, group.channels, group.part), 0));
  for (const { latent, group } of coded.reverse()) putLatentGroup(encoder, latent, group.channels, latentTables(group.latent, w, level), group.part);
  return encoder.finish();
}

/** A file's streams, each encodeChain's. */
export function encodeStreams(latents: Latents, w: Weights, level: number, budget: Budget = {}): Uint8Array[] {
  return fileChains(w).map((chain) => (checkBudget(budget), encodeChain(chain, latents, w, level)));
}

/** Reads coding group `index` from an open decoder into its latent's symbols; false: a value does not fit them. */
function takeGroup(decoder: RansDecoder, index: number, latents: Latents, w: Weights, level: number): boolean {
  const { latent, group } = groupLatent(index, latents, w);
  return takeLatentGroup(decoder, group.channels, latent, latentTables(group.latent, w, level), group.part);
}

/** Reads a stream that holds coding group `index` alone (a version-1 file's), on any thread; false: a value does not fit. */
export function decodeGroupStream(stream: Uint8Array, index: number, latents: Latents, w: Weights, level: number): boolean {
  const decoder = new RansDecoder(stream);
  if (!takeGroup(decoder, index, latents, w, level)) return false;
  decoder.finish();
  return true;
}

/**
 * Reads a file's coding groups from its streams, each chain in order: a chain's first group opens a decoder on its
 * stream (so a decode that starts again, in wider symbols, starts the chain again), its last group checks the end
 * (RansDecoder.finish). Groups must come in their chain's order: the decode plan's stages do.
 */
export class GroupReader {
  private readonly chainOf: { chain: number; at: number; last: boolean }[] = [];
  private open?: { chain: number; next: number; decoder: RansDecoder };

  constructor(private readonly streams: Uint8Array[], private readonly w: Weights, private readonly level: number, version: number) {
    fileChains(w, version).forEach((groups, chain) => groups.forEach((group, at) => {
      this.chainOf[group] = { chain, at, last: at === groups.length - 1 };
    }));
  }

  /** Whether groups of the file may be read apart, on any thread (one group a stream). */
  static independent(w: Weights, version: number): boolean {
    return fileChains(w, version).every((chain) => chain.length === 1);
  }

  /** Reads group `index` into its latent's symbols; false: a value does not fit them (the chain is closed). */
  read(index: number, latents: Latents): boolean {
    const { chain, at, last } = this.chainOf[index];
    if (at === 0) this.open = { chain, next: 0, decoder: new RansDecoder(this.streams[chain]) };
    const open = this.open;
    if (!open || open.chain !== chain || open.next !== at) return fail('INTERNAL', `group ${index} read out of its chain's order`);
    const fits = takeGroup(open.decoder, index, latents, this.w, this.level);
    open.next++;
    if (!fits || last) this.open = undefined;
    if (fits && last) open.decoder.finish();
    return fits;
  }
}

/**
 * The decode plan, shared by decodeSync and the worker pool: stages of coding groups, each group read after the
 * ones before it in the file's order (GroupReader; the factorized kind's, one a stream, in any order), each stage
 * after its `prepare` (on the calling thread) has given its latents what their tables need, or has set
 * up a prior pass whose bands any thread may compute (src/model/priors.ts, PriorPass).
 *   factorized: all groups at once.
 *   hyper:      ŵ's groups → h_s → ŷ's means and indexes → ŷ's groups → c_z(g_m's first layer) → ẑ's → ẑ's groups.
 *   checkerboard: … → ẑ's anchors' groups → the others' means and indexes (s_z, e_z) → their groups.
 *   spacechannel: the checkerboard's ẑ stages in channel halves, k_a's and k_o's passes before the second halves.
 *   ycontext:   the spacechannel kind's, with ŷ's groups in two stages: its anchors', then (the 'others' pass over
 *               ŷ: s_y, e_y) its other elements'.
 *   ychannel:   the ycontext kind's, with ŷ's stages in channel halves as ẑ's (ŷ's k_a's and k_o's passes).
 * The hyper kinds' ŷ and ẑ are settled once their last groups are read: fround(s + μ) over their means (memory).
 */
export interface DecodeStage {
  /** indexes into fileGroups, in file order */
  groups: number[];
  prepare?: (latents: Latents, w: Weights, level: number) => PriorPass | void;
  /** the Gaussian latent whose last groups these are: settled after them (bottleneck.ts settle) */
  settles?: 'y' | 'z';
}

/** `bandRows`: the height of the prior passes' bands, in rows of ẑ's grid (only how the work is cut). */
export function decodeStages(w: Weights, bandRows?: number): DecodeStage[] {
  const groups = fileGroups(w).map((t, i) => ({ ...t, i }));
  if (!w.hyper) return [{ groups: groups.map((t) => t.i) }];
  // a latent's steps, one stage each: the first prepared by `first`, the others by their prior pass
  const stages = (of: SteppedLatent, steps: LatentStep[], first: DecodeStage['prepare'], rows?: number) => steps.map((step, i): DecodeStage => ({
    groups: groups.filter((t) => t.latent === of && t.step === i).map((t) => t.i),
    prepare: i === 0 ? first : (l, w) => startPass(step.pass!, l, w, rows, of),
    ...(i === steps.length - 1 && { settles: of }),
  }));
  return [
    { groups: groups.filter((t) => t.latent === 'hyper').map((t) => t.i) },
    ...stages('y', mainSteps(w), (l, w, level) => withCenters(l.y, mainCenters(l.hyper!, w, level, l.y)), mainBandRows(bandRows)),
    ...stages('z', residualSteps(w), (l, w) => startPass('residual', l, w, bandRows), bandRows),
  ];
}

/** The file of a model's streams (encodeStreams): its version is the model's (fileVersion). */
export function writeFile(img: RgbImage, w: Weights, opts: EncodeOptions, streams: Uint8Array[]): Uint8Array {
  return writeContainer({
    version: fileVersion(w),
    level: opts.level,
    flags: opts.grayscale ? FLAG_GRAYSCALE : 0,
    width: img.width,
    height: img.height,
    weightsId: w.id.subarray(0, WEIGHTS_ID_BYTES),
    streams,
  });
}

/** The tile an encode asked for (a square), or undefined: the encoder's default (encodeTile). */
export const encodeTileOf = (opts: Pick<EncodeOptions, 'tile'>): TileShape | undefined => opts.tile === undefined ? undefined : squareTile(opts.tile);

export function encodeSync(img: RgbImage, w: Weights, opts: EncodeOptions): Uint8Array {
  checkEncode(img, w, opts);
  const tile = encodeTileOf(opts);
  const afterTile = tileCounter(encodeTileCount(img, tile), opts.onTile);
  const at = atLevel(w, opts.level);
  return fileOfLatents(img, encodeLatents(img, at.w, at.level, tile, () => checkBudget(opts), afterTile), at, opts);
}

/** The file of the latents coded by the model `at` a level position (atLevel); its header records opts.level. */
function fileOfLatents(img: RgbImage, latents: Latents, at: { w: Weights; level: number }, opts: EncodeOptions): Uint8Array {
  return writeFile(img, at.w, opts, encodeStreams(latents, at.w, at.level, opts));
}

/** f_m(x), which every level shares: it has no gains. */
const mainFeatures = (img: RgbImage, w: Weights, opts: Omit<EncodeOptions, 'level'>): Tensor =>
  mainAnalysis(img, w, encodeTileOf(opts), () => checkBudget(opts));

/** encodeSync's bytes at `level` (checked by the caller) from f_m(x), which stays as it is. */
function fileOfFeatures(img: RgbImage, w: Weights, features: Tensor, level: number, opts: Omit<EncodeOptions, 'level'>): Uint8Array {
  const copy = tensor(features.c, features.h, features.w); // quantisation consumes its features
  copy.data.set(features.data);
  const at = atLevel(w, level);
  return fileOfLatents(img, latentsFromFeatures(img, copy, at.w, at.level, encodeTileOf(opts), () => checkBudget(opts)), at, { ...opts, level });
}

/**
 * One image at any levels, f_m(x) computed once, at the first call (it comes before the level's gains): each call
 * gives encodeSync's bytes at its level. For searches over the levels (the CLI's --target-bpp, -size, -psnr).
 */
export function levelEncoder(img: RgbImage, w: Weights, opts: Omit<EncodeOptions, 'level'>): (level: number) => Uint8Array {
  let features: Tensor | undefined;
  return (level) => {
    checkEncode(img, w, { ...opts, level });
    features ??= mainFeatures(img, w, opts);
    return fileOfFeatures(img, w, features, level, opts);
  };
}

/** A file of encodeLevels: its level, its bytes, and what encoding this level alone takes (f_m(x) included). */
export interface LevelFile {
  level: number;
  bytes: Uint8Array;
  /** what encoding this level alone takes: the shared f_m(x) pass plus the level's own work */
  seconds: number;
}

/** Several levels of one image on this thread, f_m(x) computed once: encodeLevelsParallel's files (every level checked first). */
export function encodeLevelsSync(img: RgbImage, w: Weights, levels: number[], opts: Omit<EncodeOptions, 'level'>): LevelFile[] {
  levels.forEach((level) => checkEncode(img, w, { ...opts, level }));
  const started = performance.now();
  const features = mainFeatures(img, w, opts);
  const shared = (performance.now() - started) / 1000;
  return levels.map((level) => {
    const own = performance.now();
    const bytes = fileOfFeatures(img, w, features, level, opts);
    return { level, bytes, seconds: shared + (performance.now() - own) / 1000 };
  });
}

/** Kinds of symbol arrays, narrow first: a decoder tries them in turn until every stream fits. */
export const SYMBOL_KINDS = [Int16Array, Int32Array] as const;
export type SymbolKind = (typeof SYMBOL_KINDS)[number];

/**
 * One step of a decode pass: the coding groups to read into `latents` (in order; the driver answers whether every
 * value fit), or the bands of a prior pass to compute (priorBand, in any order, on any thread; answer true).
 */
export type DecodeStep = { latents: Latents; groups: number[]; pass?: undefined } | { latents: Latents; pass: PriorPass; groups?: undefined };

/**
 * The decode of a file's latents, in the narrowest symbol arrays that hold them: a pass in int16 symbols, stage
 * by stage (decodeStages, each prepared here), and again in int32 if a stage answers that a value did not fit.
 * decodeSync and the worker pool drive it, each running the groups and bands of a step its own way.
 */
export function* latentDecode(file: Pick<Container, 'width' | 'height' | 'level'>, w: Weights,
  allocate: (kind: SymbolKind, length: number) => Symbols, bandRows?: number): Generator<DecodeStep, Latents, boolean> {
  for (const kind of SYMBOL_KINDS) {
    const latents = latentShapes(file.width, file.height, w, (length) => allocate(kind, length));
    let fits = true;
    for (const stage of decodeStages(w, bandRows)) {
      const pass = stage.prepare?.(latents, w, file.level);
      if (pass) {
        yield { latents, pass };
        finishPass(pass, latents);
      }
      fits = yield { latents, groups: stage.groups };
      if (!fits) break;
      if (stage.settles) settle(latents[stage.settles]);
    }
    if (fits) return latents;
  }
  return fail('INTERNAL', 'int32 symbols did not fit a decoded value'); // getEscapedValue checks the int32 range
}

/**
 * Latent shapes of a width × height image: ŷ at 1/16, ẑ at 1/8 of the padded size, ŵ (hyper kind) at 1/64
 * rounded up. `allocate` gives the symbol arrays (the worker pool puts them in shared memory).
 */
export function latentShapes(width: number, height: number, w: Weights, allocate: (length: number) => Symbols): Latents {
  const h = paddedSize(height) / TOTAL_STRIDE;
  const wd = paddedSize(width) / TOTAL_STRIDE;
  const latent = (c: number, lh: number, lw: number): Latent => ({ c, h: lh, w: lw, symbols: allocate(c * lh * lw) });
  const latents: Latents = { y: latent(w.config.M, h, wd), z: latent(w.config.Mr, 2 * h, 2 * wd) };
  if (w.hyper) {
    const grid = hyperGrid(h, wd);
    latents.hyper = latent(w.config.Nh, grid.h, grid.w);
  }
  return latents;
}

/** The container, checked against the loaded model: everything decodeSync refuses before decoding. */
export function openFile(bytes: Uint8Array, w: Weights, opts: DecodeOptions): Container {
  checkTile(opts.tile ?? DECODE_TILE);
  const file = readContainer(bytes, opts.limits);
  checkBudget(opts);
  for (let i = 0; i < WEIGHTS_ID_BYTES; i++) {
    if (file.weightsId[i] !== w.id[i]) {
      fail('WEIGHTS_MISMATCH', `file needs weights ${hexBytes(file.weightsId)}, loaded ${hexBytes(w.id.subarray(0, WEIGHTS_ID_BYTES))}`);
    }
  }
  // the CRC matched, so a level this model lacks means a damaged or forged file, not a bad option
  if (file.level > w.config.levels - 1) fail('CORRUPT', `level ${file.level} (this model has levels 0…${w.config.levels - 1})`);
  if (!Number.isInteger(file.level) && !w.hyper) fail('CORRUPT', `level ${file.level}: the factorized kind has whole levels only`);
  // version 1: any kind (the hyper kinds' files before chains); version 2: the hyper kinds' chained groups only
  if (file.version > fileVersion(w)) fail('CORRUPT', `a version-${file.version} file for the ${w.config.kind} kind, which has version-1 files only`);
  const expected = fileChains(w, file.version).length;
  if (file.streams.length !== expected) fail('CORRUPT', `${file.streams.length} streams, this model writes ${expected} in version ${file.version}`);
  return file;
}

/** The decoder's tiles over the padded image of latent ŷ. */
export function decodeTiles(y: Latent, tile = defaultDecodeTile(y.h * TOTAL_STRIDE, y.w * TOTAL_STRIDE)): Region[] {
  return tileGrid(y.h * TOTAL_STRIDE, y.w * TOTAL_STRIDE, tile);
}

/** Decodes one tile of x̂ straight into the output pixels. */
export function decodeTile(out: RgbImage, latents: Latents, w: Weights, level: number, region: Region): void {
  const pixels = decodeRegion(latents, w, level, region);
  writeRgbTile(out.data, out.width, out.height, pixels, region);
  recycle(pixels);
}

/** Rows `rows` of x̂ from x̂_m and r̂ over the whole image, straight into the output pixels. */
export function fuseBand(out: RgbImage, xMain: Tensor, rHat: Tensor, w: Weights, rows: Range): void {
  const pixels = fusionBand(xMain, rHat, w, rows);
  writeRgbTile(out.data, out.width, out.height, pixels, { rows, cols: { start: 0, end: xMain.w } });
  recycle(pixels);
}

/** The file's latents (latentDecode, its groups here in turn), the Gaussian ones settled. */
export function decodeLatents(file: Container, w: Weights): Latents {
  const decode = latentDecode(file, w, (kind, length) => new kind(length));
  const reader = new GroupReader(file.streams, w, file.level, file.version);
  let step = decode.next();
  while (!step.done) {
    const { latents, groups, pass } = step.value;
    if (pass) for (const rows of pass.bands) priorBand(pass, latents, w, file.level, rows);
    step = decode.next(!groups || groups.every((i) => reader.read(i, latents)));
  }
  return step.value;
}

export function decodeSync(bytes: Uint8Array, w: Weights, opts: DecodeOptions = {}): RgbImage {
  const file = openFile(bytes, w, opts);
  const at = atLevel(w, file.level);
  const latents = decodeLatents({ ...file, level: at.level }, at.w);
  const out = { width: file.width, height: file.height, data: new Uint8Array(file.width * file.height * 3) };
  const tiles = decodeTiles(latents.y, opts.tile);
  const afterTile = tileCounter(tiles.length, opts.onTile);
  for (const region of tiles) {
    checkBudget(opts);
    decodeTile(out, latents, at.w, at.level, region);
    afterTile();
  }
  return out;
}
