/**
 * `aara eval <dir>`: codes every image of a folder at every quality level with the TypeScript engine and, side
 * by side, with the classic codecs whose command-line tools are installed, then writes eval.json, eval.md, rd.svg
 * and compare.html. Every codec's output is decoded back and scored by the same metric code (src/eval/metrics.ts).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { arch, availableParallelism, cpus, platform, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bdRate, msSsimDecibels, type RdPoint } from './bd-rate.js';
import { CLASSIC_CODECS, ClassicCoder, isInstalled, ToolRunner, toolVersion, type CodedImage } from './classic-codecs.js';
import { checkLevel } from '../codec/codec.js';
import { fail } from '../core/errors.js';
import { PUBLISHED_CURVES, renderRdSvg, type RdCurve } from './eval-plot.js';
import {
  AARA,
  COMPARE_TARGET_BPP,
  averageOf,
  renderCompareHtml,
  renderMarkdown,
  renderSummary,
  type BdRateRow,
  type CodecResult,
  type Comparison,
  type EvalResult,
  type Measurement,
} from './eval-report.js';
import { readInput, writeOutputAtomic } from '../io/files.js';
import { eraseProgress, ProgressBar } from '../io/progress.js';
import { decodeImage, encodePng } from '../io/image-io.js';
import type { RgbImage } from '../io/pixels.js';
import { close, decode, encodeLevels, loadWeights, type LevelFile } from '../index.js';
import { bpp, msSsim, psnr } from './metrics.js';
import type { Weights } from '../format/weights.js';

export interface EvalOptions {
  /** one folder of PNG/JPEG images */
  inputs: string[];
  levels?: number[];
  out?: string;
  quick: boolean;
  quiet: boolean;
  json: boolean;
  weights?: string;
  /** aara's worker threads (default: the cores) */
  threads?: number;
}

const DEFAULT_OUT = 'results';
/** --quick: a smoke test that finishes in seconds (CI) */
const QUICK_IMAGES = 2;
const QUICK_CROP = 256;
const COMPARE_IMAGES = 3;
const COMPARE_CROP = 256;
/** the classic codecs shown next to aara in compare.html */
const COMPARED_CODECS = ['JPEG', 'WebP'];
const IMAGE_EXTENSION = /\.(png|jpe?g)$/i;

interface SourceImage {
  name: string;
  path: string;
  image: RgbImage;
  /** where `image` lies in the file's pixels (not at 0, 0 after --quick's crop) */
  left: number;
  top: number;
}

/** A codec under test: named settings, and a way to code an image at one of them. */
interface Contender {
  name: string;
  command: string;
  version: string;
  settings: string[];
  /** how many of its settings may be coded at once: aara fills the cores itself, a classic tool takes one */
  concurrency: number;
  code(source: SourceImage, setting: number): Promise<CodedImage>;
}

export async function evalCommand(o: EvalOptions): Promise<void> {
  if (o.inputs.length !== 1) fail('USAGE', 'eval takes one folder of PNG/JPEG images');
  const dir = o.inputs[0];
  const w = loadWeights(o.weights);
  const levels = chooseLevels(w, o);
  const sources = loadSources(dir, o.quick);
  const notice = (text: string) => {
    if (o.quiet) return;
    eraseProgress();
    console.error(`aara eval: ${text}`);
  };
  const skipped: EvalResult['skipped'] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'aara-eval-'));
  const tools = new ToolRunner();
  const cores = availableParallelism();
  try {
    const contenders = [aaraContender(w, levels, o.threads ?? cores)];
    for (const codec of CLASSIC_CODECS) {
      const missing = [codec.encoder, codec.decoder].filter((tool) => !isInstalled(tool));
      if (missing.length > 0) {
        const reason = `${missing.join(' and ')} not found (Debian package ${codec.debianPackage})`;
        skipped.push({ codec: codec.name, reason });
        notice(`skipping ${codec.name}: ${reason}`);
        continue;
      }
      const coder = new ClassicCoder(codec, workDir, tools);
      const settings = o.quick ? spread(codec.settings, 3) : codec.settings;
      contenders.push({
        name: codec.name,
        command: codec.command,
        version: toolVersion(codec),
        settings: settings.map((s) => s.label),
        concurrency: cores,
        code: (source, setting) => coder.code(source.image, settings[setting]),
      });
    }
    const measured = await measure(sources, contenders, o.quiet, (codec, reason) => {
      skipped.push({ codec, reason });
      notice(`dropping ${codec}: ${reason}`);
    });
    const result = buildResult(dir, o.quick, w, sources, measured.codecs, skipped);
    writeResults(o.out ?? DEFAULT_OUT, result, measured.comparisons, sources.map((s) => s.path));
    report(o, result);
  } finally {
    await tools.close();
    rmSync(workDir, { recursive: true, force: true });
    await close();
  }
}

/** --levels as given (checked), else all levels; --quick: the first, middle and last. */
function chooseLevels(w: Weights, o: EvalOptions): number[] {
  if (o.levels) {
    o.levels.forEach((level) => checkLevel(level, w));
    return [...new Set(o.levels)].sort((a, b) => a - b);
  }
  const all = Array.from({ length: w.config.levels }, (_, level) => level);
  return o.quick ? spread(all, 3) : all;
}

/** `count` items evenly spread over the list, first and last included (the whole list if it is short). */
function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.round((i * (items.length - 1)) / (count - 1))]);
}

function loadSources(dir: string, quick: boolean): SourceImage[] {
  const names = listImages(dir);
  return (quick ? names.slice(0, QUICK_IMAGES) : names).map((name) => {
    const path = join(dir, name);
    const decoded = decodeImage(readInput(path));
    const whole = { image: { width: decoded.width, height: decoded.height, data: decoded.data }, left: 0, top: 0 };
    return { name: name.replace(IMAGE_EXTENSION, ''), path, ...(quick ? centreCrop(whole.image, QUICK_CROP) : whole) };
  });
}

/** The PNG and JPEG files of a folder, sorted by name. */
function listImages(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') fail('FILE_NOT_FOUND', dir);
    if (code === 'ENOTDIR') fail('USAGE', `${dir} is not a folder (eval takes a folder of images)`);
    return fail('IO_ERROR', `cannot list ${dir}: ${(err as Error).message}`);
  }
  const isFile = (path: string) => {
    try {
      return statSync(path).isFile();
    } catch {
      return false; // a dangling link or an entry removed meanwhile
    }
  };
  const names = entries.filter((name) => IMAGE_EXTENSION.test(name) && isFile(join(dir, name))).sort();
  if (names.length === 0) fail('FILE_NOT_FOUND', `no PNG or JPEG images in ${dir}`);
  return names;
}

function centreCrop(image: RgbImage, size: number): { image: RgbImage; left: number; top: number } {
  const width = Math.min(size, image.width);
  const height = Math.min(size, image.height);
  const left = (image.width - width) >> 1;
  const top = (image.height - height) >> 1;
  return { image: cropRectangle(image, left, top, width, height), left, top };
}

function cropRectangle(image: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const from = ((top + row) * image.width + left) * 3;
    data.set(image.data.subarray(from, from + width * 3), row * width * 3);
  }
  return { width, height, data };
}

/**
 * aara on the worker pool, as the CLI runs it (the same bytes as encodeSync, in less time on several cores).
 * An image's levels are encoded together, sharing f_m(x) (the bytes of separate encodes; each level's
 * encode time is the shared pass plus its own work, what a separate encode takes).
 */
function aaraContender(w: Weights, levels: number[], threads: number): Contender {
  let encoded: { source: SourceImage; files: LevelFile[] } | undefined;
  return {
    name: AARA,
    command: `aara encode --level LEVEL --threads ${threads} (TypeScript engine)`,
    version: `weights ${w.idHex.slice(0, 16)}`,
    settings: levels.map((level) => `level ${level}`),
    concurrency: 1,
    code: async (source, setting) => {
      if (encoded?.source !== source) encoded = { source, files: await encodeLevels(source.image, levels, { weights: w, threads }) };
      const { bytes, seconds } = encoded.files[setting];
      const decodeStarted = performance.now();
      const decoded = await decode(bytes, { weights: w, threads });
      return { bytes: bytes.length, decoded, encodeSeconds: seconds, decodeSeconds: (performance.now() - decodeStarted) / 1000 };
    },
  };
}

interface CodecMeasurements {
  contender: Contender;
  /** [setting][image] */
  results: Measurement[][];
  /** steps started so far (the progress bar's share of a dropped codec) */
  started: number;
  failure?: Error;
}

/**
 * Codes every image with every contender at every setting. aara runs first, alone (its workers fill the
 * cores); then the classic codecs' steps for the image, one per core (each tool is single-threaded, and the
 * main thread scores one step while the other's tools run). A classic codec whose tool fails is dropped
 * (`onDrop`) rather than ending the run; aara failing is a bug and ends it. Crops for compare.html are kept
 * for a few images only, so memory stays small on large sets.
 */
async function measure(sources: SourceImage[], contenders: Contender[], quiet: boolean, onDrop: (codec: string, reason: string) => void) {
  let active: CodecMeasurements[] = contenders.map((contender) => ({ contender, results: contender.settings.map(() => []), started: 0 }));
  const compareSources = new Set(spread(sources, COMPARE_IMAGES));
  const comparisons: Comparison[] = [];
  const stepsOf = (c: Contender) => sources.length * c.settings.length;
  const progress = new ProgressBar(contenders.reduce((n, c) => n + stepsOf(c), 0), !quiet);
  for (const source of sources) {
    const crop = compareSources.has(source) ? centreCrop(source.image, COMPARE_CROP) : undefined;
    const candidates: CropCandidate[] = [];
    const step = async (entry: CodecMeasurements, s: number) => {
      const { contender } = entry;
      if (entry.failure) return; // an earlier setting of this image failed: the codec is being dropped
      const setting = contender.settings[s];
      entry.started++;
      let coded: CodedImage;
      try {
        coded = await contender.code(source, s);
      } catch (err) {
        if (contender.name === AARA) throw err;
        entry.failure ??= err as Error;
        return;
      } finally {
        progress.advance(`${source.name} ${contender.name} ${setting}`);
      }
      const measurement = score(source, coded);
      entry.results[s].push(measurement);
      if (crop && (contender.name === AARA || COMPARED_CODECS.includes(contender.name))) {
        const decodedCrop = cropRectangle(coded.decoded, crop.left, crop.top, crop.image.width, crop.image.height);
        candidates.push({ codec: contender.name, setting, order: [contenders.indexOf(contender), s], measurement, crop: decodedCrop,
          cropPsnr: psnr(crop.image.data, decodedCrop.data) });
      }
    };
    for (const entry of active.filter((e) => e.contender.concurrency === 1)) {
      await runConcurrently(entry.contender.settings.length, 1, (s) => step(entry, s));
    }
    const shared = active.filter((e) => e.contender.concurrency > 1).flatMap((entry) => entry.contender.settings.map((_, s) => ({ entry, s })));
    await runConcurrently(shared.length, Math.min(...shared.map((j) => j.entry.contender.concurrency)), (i) => step(shared[i].entry, shared[i].s));
    for (const entry of active.filter((e) => e.failure)) {
      progress.skip(stepsOf(entry.contender) - entry.started);
      onDrop(entry.contender.name, entry.failure!.message);
    }
    active = active.filter((e) => !e.failure);
    // steps finish in any order: the candidates go back to contender and setting order, so ties pick as before
    candidates.sort((a, b) => a.order[0] - b.order[0] || a.order[1] - b.order[1]);
    if (crop) comparisons.push(comparison(source, crop, candidates.filter((c) => active.some((a) => a.contender.name === c.codec))));
  }
  progress.finish();
  const codecs: CodecResult[] = active.map(({ contender, results }) => ({
    codec: contender.name,
    command: contender.command,
    version: contender.version,
    settings: contender.settings.map((setting, s) => ({ setting, average: averageOf(results[s]), images: results[s] })),
  }));
  return { codecs, comparisons };
}

/** Runs task(0) … task(count − 1), at most `limit` at a time, each lane taking the next index as it frees. */
async function runConcurrently(count: number, limit: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, lane));
}

function score(source: SourceImage, coded: CodedImage): Measurement {
  const { width, height } = source.image;
  return {
    image: source.name,
    bytes: coded.bytes,
    bpp: bpp(coded.bytes, width, height),
    psnr: psnr(source.image.data, coded.decoded.data),
    msSsim: msSsim(source.image, coded.decoded),
    encodeSeconds: coded.encodeSeconds,
    decodeSeconds: coded.decodeSeconds,
  };
}

interface CropCandidate {
  codec: string;
  setting: string;
  /** contender index, setting index */
  order: [number, number];
  measurement: Measurement;
  crop: RgbImage;
  cropPsnr: number;
}

/** Original, the aara level nearest the target rate, and each compared codec's setting nearest to that level's rate. */
function comparison(source: SourceImage, crop: { image: RgbImage; left: number; top: number }, candidates: CropCandidate[]): Comparison {
  const nearest = (codec: string, targetBpp: number) => candidates
    .filter((c) => c.codec === codec)
    .reduce<CropCandidate | undefined>((best, c) => (!best || Math.abs(c.measurement.bpp - targetBpp) < Math.abs(best.measurement.bpp - targetBpp) ? c : best), undefined);
  const aara = nearest(AARA, COMPARE_TARGET_BPP);
  const chosen = aara ? [aara, ...COMPARED_CODECS.map((codec) => nearest(codec, aara.measurement.bpp))] : [];
  return {
    image: source.name,
    crop: { left: source.left + crop.left, top: source.top + crop.top, width: crop.image.width, height: crop.image.height },
    tiles: [
      { codec: 'original', setting: '', png: encodePng(crop.image) },
      ...chosen.filter((c): c is CropCandidate => c !== undefined).map((c) => ({
        codec: c.codec, setting: c.setting, png: encodePng(c.crop), bpp: c.measurement.bpp, psnr: c.measurement.psnr, cropPsnr: c.cropPsnr,
      })),
    ],
  };
}

function buildResult(dir: string, quick: boolean, w: Weights, sources: SourceImage[], codecs: CodecResult[], skipped: EvalResult['skipped']): EvalResult {
  const cpuList = cpus();
  return {
    date: new Date().toISOString(),
    machine: { cpu: cpuList[0]?.model ?? 'unknown', cores: cpuList.length, node: process.version, os: `${platform()} ${release()} ${arch()}` },
    weights: { idHex: w.idHex, levels: w.config.levels },
    dataset: { dir, quick, crop: quick ? QUICK_CROP : null, images: sources.map((s) => ({ name: s.name, width: s.image.width, height: s.image.height })) },
    codecs,
    skipped,
    bdRate: bdRateRows(codecs, quick),
  };
}

/** A codec's curve of averages. */
function curveOf(codec: CodecResult): RdCurve {
  return { name: codec.codec, points: codec.settings.map((s) => s.average) };
}

/** aara against each measured codec and, on full images only, against the published curves. */
function bdRateRows(codecs: CodecResult[], quick: boolean): BdRateRow[] {
  const aara = codecs.find((c) => c.codec === AARA);
  if (!aara) return [];
  const row = (anchor: RdCurve, published: boolean): BdRateRow => {
    const against = (quality: (p: RdCurve['points'][number]) => number) => {
      const points = (curve: RdCurve): RdPoint[] => curve.points.map((p) => ({ rate: p.bpp, quality: quality(p) }));
      return bdRate(points(anchor), points(curveOf(aara))) ?? null;
    };
    return { anchor: anchor.name, published, psnr: against((p) => p.psnr), msSsimDb: against((p) => msSsimDecibels(p.msSsim)) };
  };
  return [
    ...codecs.filter((c) => c !== aara).map((c) => row(curveOf(c), false)),
    ...(quick ? [] : PUBLISHED_CURVES.map((curve) => row(curve, true))),
  ];
}

/** JSON of the eval's results: JSON has no Infinity or NaN (a lossless PSNR is infinite), so they are written as null. */
export function jsonText(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), indent);
}

function writeResults(out: string, result: EvalResult, comparisons: Comparison[], inputs: string[]): void {
  try {
    mkdirSync(out, { recursive: true });
  } catch (err) {
    fail('IO_ERROR', `cannot create ${out}: ${(err as Error).message}`);
  }
  const title = `aara vs classic codecs on ${result.dataset.images.length} image${result.dataset.images.length === 1 ? '' : 's'} of ${result.dataset.dir}` +
    (result.dataset.crop ? ` (${result.dataset.crop}×${result.dataset.crop} crops)` : '');
  const files: [string, string][] = [
    ['eval.json', `${jsonText(result, 2)}\n`],
    ['eval.md', renderMarkdown(result)],
    ['rd.svg', renderRdSvg(result.codecs.map(curveOf), title)],
    ['compare.html', renderCompareHtml(comparisons, title)],
  ];
  for (const [name, text] of files) writeOutputAtomic(join(out, name), new TextEncoder().encode(text), { force: true, inputs });
}

function report(o: EvalOptions, result: EvalResult): void {
  if (o.quiet) return;
  const out = o.out ?? DEFAULT_OUT;
  if (o.json) {
    console.log(jsonText({
      out,
      images: result.dataset.images.length,
      weights: result.weights.idHex,
      codecs: result.codecs.map((c) => ({ codec: c.codec, settings: c.settings.map((s) => ({ setting: s.setting, ...s.average })) })),
      bdRate: result.bdRate,
      skipped: result.skipped,
    }));
    return;
  }
  console.log(renderSummary(result));
  console.log(`\nwrote ${['eval.json', 'eval.md', 'rd.svg', 'compare.html'].map((f) => join(out, f)).join(', ')}`);
}
