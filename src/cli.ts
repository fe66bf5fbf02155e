/**
 * aara command line: encode, decode, info (and eval, see src/eval/eval.ts). Conventions follow cwebp/avifenc.
 * Every failure is an AaraError with a documented exit status; nothing is written unless complete.
 */
import { availableParallelism } from 'node:os';
import { basename, extname, join } from 'node:path';
import { parseArgs as parseNodeArgs } from 'node:util';
import { msSsimDecibels } from './eval/bd-rate.js';
import { DECODE_TILE, decodeSync, encodeLevel, encodeSync, levelEncoder, type EncodeOptions, type TileProgress } from './codec/codec.js';
import { ENCODE_TILE } from './model/encoder.js';
import { FLAG_GRAYSCALE, FLAG_METADATA, fileMetadata, readContainer, readHeader, resolveLimits, withMetadata, type Limits } from './format/container.js';
import { AaraError, fail } from './core/errors.js';
import { checkOutputs, createDirectory, inputByteLimit, readSource, refuseTerminalOutput, STDIO, writeOutput, writeStdout } from './io/files.js';
import { decodeImage, encodePng } from './io/image-io.js';
import type { RgbImage } from './io/pixels.js';
import { bpp, msSsim, psnr } from './eval/metrics.js';
import { loadWeightFile } from './io/weight-files.js';
import { packageFile } from './io/package-files.js';
import { eraseProgress, ProgressBar } from './io/progress.js';
import { decodeParallel, encodeParallel, levelEncoderParallel } from './parallel/parallel.js';
import { closeSharedPool, runsOnCallingThread, sharedPool } from './parallel/shared-pool.js';
import { hexBytes, type Weights } from './format/weights.js';

export const HELP = `aara — learned image codec (AARA: dual-branch attention residual autoencoder)

Usage:
  aara encode <in.png|in.jpg|->... (-o out.aara | -o - | -d outdir) [-q Q | --level N | --target-bpp X |
              --target-size B | --target-psnr DB] [--psnr]
  aara decode <in.aara|->... (-o out.png | -o - | -d outdir)
  aara info <in.aara|->
  aara compare <a.png|a.jpg|-> <b.png|b.jpg|->
  aara eval <dir-of-images> [--levels 0,2,4] [--out results/] [--quick]

  -  as input reads standard input (once, with -o); -o - writes standard output (never a terminal), and then
     every report goes to stderr.

Options (a command refuses, exit 2, an option it does not take):
 encode and decode:
  -o, --output FILE    output file (one input only); - for standard output
  -d, --outdir DIR     output folder for several inputs, created if missing (input name + .aara / .png)
  -f, --force          replace an existing output file (an input is never replaced)
      --weights FILE   weight file (default: the packaged weights/aara.bin; eval takes it too)
      --threads N      worker threads (default: number of cores; 1 codes on the main thread, as does an
                       image of at most 256×256 to decode or 512×512 to encode; eval too)
 encode only:
  -q, --quality Q      quality 0 (smallest) … 100 (best), continuous: between two levels their gains are
                       interpolated (in 1/16 of a level)
      --level N        quality level 0 (smallest) … L−1 (best); default 5 (≈ 0.64 bpp on Kodak)
      --target-bpp X   the best level whose file is at most X bits per pixel
      --target-size B  the best level whose file is at most B bytes
      --target-psnr DB the smallest level whose decoded file reaches DB dB PSNR
                       (a target no level meets is reported; the nearest level is written)
      --psnr           decode the file written and report its PSNR (costs a second decode)
 encode and decode:
      --metadata all|none  keep (default) or drop the ICC profile and EXIF: encode stores the input's,
                       decode writes the file's into the PNG (iCCP, eXIf)
 encode, decode, info, compare:
      --max-pixels N   refuse images (in and out) above N pixels (default 25165824 = 24 Mpixel), and
                       input files or stdin above 16 bytes per pixel of it + 4 MiB
 eval only: --levels, --out, --quick (see README)
 every command:
      --json           print one JSON object per file
      --quiet          print nothing on success (not compare)
  -h, --help           this help
  -v, --verbose        encode, decode: also print the weights (ID, kind, levels), threads, level and tiles
  -V, --version        print the version (-v is verbose, as in cwebp)

Several inputs: a file that fails is reported (aara: error CODE: file: message; with --json also an
object with its code) and the others go on; the outputs written stay, and the exit status is the first
failure's. compare prints PSNR and MS-SSIM of two images of one size (PSNR inf / null in JSON when equal).

Exit status: 0 success; 1 internal error; 2 bad command line or option value; 3 unreadable, corrupt,
unsupported or too large input (image or .aara), images of different sizes (compare); 4 invalid weight
file; 5 file system error (missing input, output exists, output would replace an input, two inputs would
write one output, folder cannot be created).
`;

interface Options {
  command: string;
  inputs: string[];
  output?: string;
  outdir?: string;
  level?: number;
  quality?: number;
  target?: Target;
  weights?: string;
  threads?: number;
  maxPixels?: number;
  force: boolean;
  quiet: boolean;
  verbose: boolean;
  json: boolean;
  psnr: boolean;
  /** keep the ICC profile and EXIF (encode: into the file; decode: into the PNG) */
  metadata: boolean;
  levels?: number[];
  out?: string;
  quick: boolean;
}

/** Every option of every command, for node:util parseArgs (numbers are checked after it, by parseArgs below). */
const OPTIONS = {
  output: { type: 'string', short: 'o' },
  outdir: { type: 'string', short: 'd' },
  level: { type: 'string' },
  quality: { type: 'string', short: 'q' },
  'target-bpp': { type: 'string' },
  'target-size': { type: 'string' },
  'target-psnr': { type: 'string' },
  weights: { type: 'string' },
  threads: { type: 'string' },
  'max-pixels': { type: 'string' },
  levels: { type: 'string' },
  out: { type: 'string' },
  force: { type: 'boolean', short: 'f' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  json: { type: 'boolean' },
  psnr: { type: 'boolean' },
  metadata: { type: 'string' },
  quick: { type: 'boolean' },
} as const satisfies Record<string, { type: 'string' | 'boolean'; short?: string }>;

type OptionName = keyof typeof OPTIONS;

/** The options each command takes; any other is a usage error (`info f.aara -q 3`: exit 2). */
const COMMAND_OPTIONS: Record<string, readonly OptionName[]> = {
  encode: ['output', 'outdir', 'level', 'quality', 'target-bpp', 'target-size', 'target-psnr', 'weights', 'threads', 'max-pixels', 'force', 'quiet', 'json', 'psnr', 'metadata', 'verbose'],
  decode: ['output', 'outdir', 'weights', 'threads', 'max-pixels', 'force', 'quiet', 'json', 'metadata', 'verbose'],
  info: ['max-pixels', 'quiet', 'json'],
  compare: ['max-pixels', 'json'],
  eval: ['levels', 'out', 'quick', 'weights', 'threads', 'quiet', 'json'],
};

function number(flag: string, text: string, integer: boolean, min: number, max = Infinity): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
    fail('USAGE', `${flag} needs ${integer ? 'an integer' : 'a number'} ≥ ${min}${max < Infinity ? ` and ≤ ${max}` : ''}, got '${text}'`);
  }
  return v;
}

/**
 * The command line (without -h/--help/-V/--version, which main answers) as Options: node:util parseArgs, then
 * each option checked against its command and each number against its range. Every problem is USAGE.
 */
export function parseArgs(argv: string[]): Options {
  let parsed: ReturnType<typeof parseWithNode>;
  try {
    parsed = parseWithNode(argv);
  } catch (e) {
    return fail('USAGE', `${(e as Error).message.split('\n')[0]} (see --help)`);
  }
  const { values: v, positionals, tokens } = parsed;
  const [command = '', ...inputs] = positionals;
  const o: Options = {
    command, inputs, output: v.output, outdir: v.outdir, weights: v.weights, out: v.out,
    force: v.force ?? false, quiet: v.quiet ?? false, verbose: v.verbose ?? false, json: v.json ?? false, psnr: v.psnr ?? false, quick: v.quick ?? false,
    metadata: v.metadata !== 'none',
  };
  if (v.metadata !== undefined && v.metadata !== 'all' && v.metadata !== 'none') fail('USAGE', `--metadata takes all or none, got '${v.metadata}'`);
  const allowed = COMMAND_OPTIONS[command];
  if (allowed !== undefined) {
    for (const token of tokens) {
      if (token.kind === 'option' && !allowed.includes(token.name as OptionName)) fail('USAGE', `${token.rawName} does not apply to ${command} (see --help)`);
    }
  }
  const flag = (name: OptionName) => {
    const token = tokens.find((t) => t.kind === 'option' && t.name === name);
    return token?.kind === 'option' ? token.rawName : `--${name}`;
  };
  if (v.level !== undefined) o.level = number(flag('level'), v.level, true, 0);
  if (v.quality !== undefined) o.quality = number(flag('quality'), v.quality, false, 0, 100);
  if (v.threads !== undefined) o.threads = number(flag('threads'), v.threads, true, 1);
  if (v['max-pixels'] !== undefined) o.maxPixels = number(flag('max-pixels'), v['max-pixels'], true, 1);
  const targets = TARGETS.filter((kind) => v[`target-${kind}`] !== undefined);
  if (targets.length > 1) fail('USAGE', `${targets.map((kind) => flag(`target-${kind}`)).join(' and ')} exclude each other`);
  if (targets.length === 1) {
    const [kind] = targets;
    o.target = { kind, value: number(flag(`target-${kind}`), v[`target-${kind}`]!, kind === 'size', kind === 'size' ? 1 : Number.MIN_VALUE) };
  }
  if (v.levels !== undefined) o.levels = v.levels.split(',').map((level) => number(flag('levels'), level, false, 0));
  return o;
}

function parseWithNode(argv: string[]) {
  return parseNodeArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true, tokens: true });
}

function outputFor(o: Options, input: string, ext: string): string {
  if (o.output) return o.output;
  if (input === STDIO) return fail('USAGE', 'standard input (-) needs -o FILE (or -o - for standard output)');
  if (o.outdir) return join(o.outdir, basename(input, extname(input)) + ext);
  return fail('USAGE', `no output: give -o FILE or -d DIR`);
}

/**
 * The command line's outputs, one per input, every one checked before any work (files.ts: checkOutputs); `-d`
 * creates its folder (removed again if a check fails). `-` is standard input / output.
 */
function plannedOutputs(o: Options, ext: string): string[] {
  if (o.inputs.length === 0) fail('USAGE', `${o.command} needs at least one input file`);
  if (o.output && o.outdir) fail('USAGE', '-o and -d exclude each other');
  if (o.output && o.inputs.length > 1) fail('USAGE', '-o takes one input; use -d DIR for several');
  if (o.inputs.filter((input) => input === STDIO).length > 1) fail('USAGE', 'standard input (-) can be read once');
  const outputs = o.inputs.map((input) => outputFor(o, input, ext));
  if (o.output === STDIO) {
    refuseTerminalOutput();
    return outputs;
  }
  const undo = o.outdir !== undefined ? createDirectory(o.outdir) : () => {};
  try {
    checkOutputs(outputs, { force: o.force, inputs: fileInputs(o) });
  } catch (e) {
    undo();
    throw e;
  }
  return outputs;
}

/** The inputs that are files (not standard input): what an output may never replace. */
function fileInputs(o: Options): string[] {
  return o.inputs.filter((input) => input !== STDIO);
}

/** --max-pixels, over the default limits. */
function limitsOf(o: Options): Partial<Limits> | undefined {
  return o.maxPixels === undefined ? undefined : { maxPixels: o.maxPixels };
}

/** The most bytes an input file or standard input may have under those limits (files.ts: inputByteLimit). */
function maxInputBytes(o: Options): number {
  return inputByteLimit(resolveLimits(limitsOf(o)).maxPixels);
}

/** The codec a command runs: the synchronous one for --threads 1 and small images, else the worker pool (the same bytes). */
interface Codec {
  weights: Weights;
  encode(img: RgbImage, opts: EncodeOptions): Promise<Uint8Array>;
  /** one image at any levels, f_m(x) computed once (levelEncoder) */
  levels(img: RgbImage, opts: Omit<EncodeOptions, 'level'>): (level: number) => Promise<Uint8Array>;
  decode(bytes: Uint8Array, limits?: Partial<Limits>, onTile?: TileProgress): Promise<RgbImage>;
  /** stops the workers, so that the process can exit */
  close(): Promise<void>;
}

function openCodec(o: Options): Codec {
  const { weights, bytes: weightBytes } = loadWeightFile(o.weights);
  const calling: Codec = {
    weights,
    encode: async (img, opts) => encodeSync(img, weights, opts),
    levels: (img, opts) => {
      const encodeAt = levelEncoder(img, weights, opts);
      return async (level) => encodeAt(level);
    },
    decode: async (bytes, limits, onTile) => decodeSync(bytes, weights, { limits, onTile }),
    close: async () => {},
  };
  if ((o.threads ?? availableParallelism()) === 1) return calling;
  const { pool } = sharedPool({ threads: o.threads });
  // an image no bigger than one of the sync path's tiles runs on this thread, as the library's async calls do: the
  // workers' start-up would cost more than they save (a 40×30 decode took 0.33 s through them, 0.11 s without)
  const here = (pixels: number, tile: number) => runsOnCallingThread(pixels, tile, pool.size);
  return {
    weights,
    encode: (img, opts) => (here(img.width * img.height, ENCODE_TILE) ? calling.encode(img, opts)
      : encodeParallel(img, weights, weightBytes, { ...opts, pool })),
    levels: (img, opts) => {
      if (here(img.width * img.height, ENCODE_TILE)) return calling.levels(img, opts);
      const encodeAt = levelEncoderParallel(img, weights, weightBytes, { ...opts, pool });
      return async (level) => (await encodeAt(level)).bytes;
    },
    decode: (bytes, limits, onTile) => {
      const { width, height } = readHeader(bytes, limits);
      return here(width * height, DECODE_TILE) ? calling.decode(bytes, limits, onTile)
        : decodeParallel(bytes, weights, weightBytes, { limits, pool, onTile });
    },
    close: closeSharedPool,
  };
}

/** Runs a command with the codec, and always stops its workers. */
async function withCodec(o: Options, command: (codec: Codec) => Promise<void>): Promise<void> {
  const codec = openCodec(o);
  try {
    await command(codec);
  } finally {
    await codec.close();
  }
}

const TARGETS = ['bpp', 'size', 'psnr'] as const;
const TARGET_UNITS = { bpp: ' bpp', size: ' bytes', psnr: ' dB' } as const;
/** --target-bpp, --target-size (bytes), --target-psnr (dB) */
interface Target {
  kind: (typeof TARGETS)[number];
  value: number;
}

interface TargetResult {
  level: number;
  bytes: Uint8Array;
  /** what the target measures of the file chosen (bpp, bytes or dB) */
  measured: number;
  met: boolean;
}

/**
 * The level a target picks, by bisection over the levels (rate and PSNR grow with the level), f_m(x) computed
 * once for every level tried: for bpp and size the best level whose file fits, for PSNR the smallest level that
 * reaches it (each file tried is decoded to measure it). A target no level meets gives the nearest level, met false.
 */
async function encodeToTarget(target: Target, img: RgbImage, codec: Codec, encodeAt: (level: number) => Promise<Uint8Array>,
  limits?: Partial<Limits>): Promise<TargetResult> {
  const measure = async (bytes: Uint8Array) => target.kind === 'bpp' ? bpp(bytes.length, img.width, img.height)
    : target.kind === 'size' ? bytes.length : psnr(img.data, (await codec.decode(bytes, limits)).data);
  const fits = (value: number) => (target.kind === 'psnr' ? value >= target.value : value <= target.value);
  const tried = new Map<number, { bytes: Uint8Array; measured: number }>();
  const at = async (level: number) => {
    if (!tried.has(level)) {
      const bytes = await encodeAt(level);
      tried.set(level, { bytes, measured: await measure(bytes) });
    }
    return tried.get(level)!;
  };
  // invariant: the answer is in lo…hi; for PSNR the first fitting level, else the last one
  let lo = 0;
  let hi = codec.weights.config.levels - 1;
  while (lo < hi) {
    const mid = target.kind === 'psnr' ? (lo + hi) >> 1 : (lo + hi + 1) >> 1;
    const ok = fits((await at(mid)).measured);
    if (target.kind === 'psnr') {
      if (ok) hi = mid;
      else lo = mid + 1;
    } else if (ok) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  const chosen = await at(lo);
  return { level: lo, ...chosen, met: fits(chosen.measured) };
}

/**
 * A bar over one image's tiles, for a single input on a terminal: a 24-Mpixel image takes minutes. A batch has
 * its bar over the files instead (one bar stands at a time); --quiet and --json show none.
 */
function tileBar(o: Options, input: string): TileProgress | undefined {
  if (o.quiet || o.json || o.inputs.length > 1) return undefined;
  let bar: ProgressBar | undefined;
  return (_done, total) => {
    bar ??= new ProgressBar(total, true);
    bar.advance(`tiles of ${input}`);
  };
}

/** Passes tile progress on to `bar` and keeps the total, for --verbose. */
function tileCounting(bar: TileProgress | undefined): { onTile: TileProgress; total: () => number | undefined } {
  let tiles: number | undefined;
  return { onTile: (done, total) => ((tiles = total), bar?.(done, total)), total: () => tiles };
}

/** --verbose: what a file was coded with, on stderr before its report (the report's format stays as it is). */
function verbose(o: Options, codec: Codec, input: string, level: number, tiles: number | undefined): void {
  if (!o.verbose || o.quiet) return;
  eraseProgress();
  const { config, idHex } = codec.weights;
  console.error(`aara: ${input}: weights ${o.weights ?? 'weights/aara.bin (packaged)'} (${idHex.slice(0, 16)}, ${config.kind} kind, ` +
    `${config.levels} levels), ${o.threads ?? availableParallelism()} thread(s), level ${level}` + (tiles ? `, ${tiles} tiles (or bands)` : ''));
}

/** Reports go to stdout, or to stderr when stdout carries the output (`-o -`). */
function report(o: Options, text: string, fields: Record<string, unknown>): void {
  if (o.quiet) return;
  eraseProgress();
  const line = (o.json ? JSON.stringify(fields) : text) + '\n';
  if (o.output === STDIO) process.stderr.write(line);
  else process.stdout.write(line);
}

/**
 * The files of one encode or decode: a file that fails (unreadable, corrupt, too large, not writable) is
 * reported on stderr (`aara: error CODE: input: message`, and with --json an object with its code) and the
 * batch goes on; the outputs written stay. The exit status is that of the first failure, 0 if none.
 */
class Batch {
  private failures = 0;
  private firstExit = 0;
  private readonly progress: ProgressBar;
  constructor(private readonly o: Options) {
    this.progress = new ProgressBar(o.inputs.length, !o.quiet && !o.json && o.inputs.length > 1);
  }

  async run(input: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      if (!(e instanceof AaraError)) throw e; // a bug: not the input's fault
      this.failures++;
      if (this.firstExit === 0) this.firstExit = e.exitCode;
      eraseProgress();
      console.error(`aara: error ${e.code}: ${input}: ${e.message}`);
      if (this.o.json) report(this.o, '', { input, error: e.code, exit: e.exitCode, message: e.message });
    }
    this.progress.advance(input);
  }

  /** The exit status; a summary on stderr when some of several files failed. */
  finish(): number {
    if (this.failures > 0 && this.o.inputs.length > 1) console.error(`aara: ${this.failures} of ${this.o.inputs.length} files failed`);
    return this.firstExit;
  }
}

/** Writes a command's output: standard output for `-`, else atomically to its file. */
async function writeTo(o: Options, output: string, bytes: Uint8Array): Promise<void> {
  if (output === STDIO) await writeStdout(bytes);
  else await writeOutput(output, bytes, { force: o.force, inputs: fileInputs(o) });
}

async function encodeCommand(o: Options): Promise<number> {
  const choices = [o.level !== undefined && '--level', o.quality !== undefined && '-q', o.target && `--target-${o.target.kind}`].filter(Boolean);
  if (choices.length > 1) fail('USAGE', `${choices.join(' and ')} exclude each other`);
  const outputs = plannedOutputs(o, '.aara');
  let status = 0;
  await withCodec(o, async (codec) => void (status = await encodeFiles(o, codec, outputs)));
  return status;
}

async function encodeFiles(o: Options, codec: Codec, outputs: string[]): Promise<number> {
  const batch = new Batch(o);
  const limits = limitsOf(o);
  for (const [i, input] of o.inputs.entries()) {
    await batch.run(input, async () => {
      const output = outputs[i];
      const img = decodeImage(await readSource(input, maxInputBytes(o)), limits);
      const started = performance.now();
      const grayscale = img.info.grayscale;
      // the codec codes the pixels; the file also keeps the input's ICC profile and EXIF (counted by --target-size)
      const metadata = o.metadata ? img.metadata : undefined;
      const keeping = (encodeAt: (level: number) => Promise<Uint8Array>) => async (l: number) => withMetadata(await encodeAt(l), metadata);
      const targeted = o.target && await encodeToTarget(o.target, img, codec, keeping(codec.levels(img, { grayscale, limits })), limits);
      const level = targeted?.level ?? encodeLevel(o, codec.weights);
      const progress = tileCounting(tileBar(o, input));
      const bytes = targeted?.bytes ?? withMetadata(await codec.encode(img, { level, grayscale, limits, onTile: progress.onTile }), metadata);
      verbose(o, codec, input, level, progress.total());
      const encodeSeconds = (performance.now() - started) / 1000;
      await writeTo(o, output, bytes);
      const rate = bpp(bytes.length, img.width, img.height);
      // --psnr: the quality of the file as written, decoded back (a second decode: only on request; --target-psnr knows it)
      const measuredPsnr = targeted && o.target!.kind === 'psnr' ? targeted.measured
        : o.psnr ? psnr(img.data, (await codec.decode(bytes, limits)).data) : undefined;
      const missed = targeted && !targeted.met
        ? `target ${o.target!.value}${TARGET_UNITS[o.target!.kind]} not met: level ${level} gives ${targeted.measured.toFixed(o.target!.kind === 'size' ? 0 : 2)}${TARGET_UNITS[o.target!.kind]}`
        : undefined;
      report(o,
        `${input} → ${output}: ${img.width}×${img.height}, ${o.quality !== undefined ? `quality ${o.quality} = ` : ''}level ${level}, ` +
        `${bytes.length} bytes, ${rate.toFixed(4)} bpp, ` +
        (measuredPsnr !== undefined ? `PSNR ${measuredPsnr.toFixed(2)} dB, ` : '') + `encode ${encodeSeconds.toFixed(2)} s` +
        (img.info.droppedAlpha ? ' (alpha channel dropped)' : '') +
        (img.info.orientation ? ` (turned upright: EXIF orientation ${img.info.orientation})` : '') + (missed ? ` (${missed})` : ''),
        { input, output, width: img.width, height: img.height, ...(o.quality !== undefined ? { quality: o.quality } : {}), level,
          bytes: bytes.length, bpp: rate, ...(measuredPsnr !== undefined ? { psnr: measuredPsnr } : {}),
          ...(targeted ? { targetMet: targeted.met } : {}), encodeSeconds, droppedAlpha: img.info.droppedAlpha,
          ...(img.info.orientation ? { exifOrientation: img.info.orientation } : {}) });
      if (missed && (o.quiet || o.json)) console.error(`aara: ${input}: ${missed}`);
    });
  }
  return batch.finish();
}

async function decodeCommand(o: Options): Promise<number> {
  const outputs = plannedOutputs(o, '.png');
  let status = 0;
  await withCodec(o, async (codec) => void (status = await decodeFiles(o, codec, outputs)));
  return status;
}

async function decodeFiles(o: Options, codec: Codec, outputs: string[]): Promise<number> {
  const batch = new Batch(o);
  for (const [i, input] of o.inputs.entries()) {
    await batch.run(input, async () => {
      const output = outputs[i];
      const bytes = await readSource(input, maxInputBytes(o));
      const started = performance.now();
      const progress = tileCounting(tileBar(o, input));
      const img = await codec.decode(bytes, limitsOf(o), progress.onTile);
      verbose(o, codec, input, readHeader(bytes).level, progress.total());
      const decodeSeconds = (performance.now() - started) / 1000;
      await writeTo(o, output, encodePng(img, o.metadata ? fileMetadata(bytes) : undefined));
      report(o, `${input} → ${output}: ${img.width}×${img.height}, decode ${decodeSeconds.toFixed(2)} s`,
        { input, output, width: img.width, height: img.height, decodeSeconds });
    });
  }
  return batch.finish();
}

async function infoCommand(o: Options): Promise<void> {
  if (o.inputs.length !== 1) fail('USAGE', 'info takes one .aara file');
  const bytes = await readSource(o.inputs[0], maxInputBytes(o));
  const h = readHeader(bytes, limitsOf(o));
  const weightsId = hexBytes(h.weightsId);
  const rate = bpp(bytes.length, h.width, h.height);
  const metadata = h.flags & FLAG_METADATA ? readContainer(bytes, limitsOf(o)).metadata : undefined;
  const kept = [metadata?.icc && `ICC profile ${metadata.icc.length} bytes`, metadata?.exif && `EXIF ${metadata.exif.length} bytes`].filter(Boolean);
  report(o,
    `${o.inputs[0]}: aara v${h.version}, ${h.width}×${h.height}, level ${h.level}, ${bytes.length} bytes, ` +
    `${rate.toFixed(4)} bpp, ${h.streamCount} stream${h.streamCount === 1 ? '' : 's'}, weights ${weightsId}${h.flags & FLAG_GRAYSCALE ? ', grayscale source' : ''}` +
    (kept.length > 0 ? `, ${kept.join(', ')}` : ''),
    { file: o.inputs[0], version: h.version, width: h.width, height: h.height, level: h.level, bytes: bytes.length, bpp: rate, streams: h.streamCount, weightsId,
      grayscale: Boolean(h.flags & FLAG_GRAYSCALE), iccBytes: metadata?.icc?.length ?? 0, exifBytes: metadata?.exif?.length ?? 0 });
}

/** `aara compare a b`: PSNR and MS-SSIM of two PNG/JPEG images of one size (RGB; alpha dropped as on encode). */
async function compareCommand(o: Options): Promise<void> {
  if (o.inputs.length !== 2) fail('USAGE', 'compare takes two images (PNG or JPEG)');
  if (o.inputs.every((input) => input === STDIO)) fail('USAGE', 'standard input (-) can be read once');
  const limits = limitsOf(o);
  const [a, b] = o.inputs;
  const first = decodeImage(await readSource(a, maxInputBytes(o)), limits);
  const second = decodeImage(await readSource(b, maxInputBytes(o)), limits);
  if (first.width !== second.width || first.height !== second.height) {
    fail('BAD_DIMENSIONS', `${a} is ${first.width}×${first.height}, ${b} is ${second.width}×${second.height}`);
  }
  const quality = psnr(first.data, second.data);
  const structural = msSsim(first, second);
  const decibels = msSsimDecibels(structural);
  const dB = (x: number) => (Number.isFinite(x) ? `${x.toFixed(2)} dB` : 'inf dB (identical)');
  report(o, `${a} vs ${b}: ${first.width}×${first.height}, PSNR ${dB(quality)}, MS-SSIM ${structural.toFixed(6)} (${dB(decibels)})`,
    // JSON has no Infinity: identical images give null for the decibels
    { a, b, width: first.width, height: first.height, psnr: finiteOrNull(quality), msSsim: structural, msSsimDb: finiteOrNull(decibels) });
}

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);

/** Answered by main() before any command runs (`aara encode --help` is help): not parseArgs' business. */
const HELP_AND_VERSION_FLAGS = ['-h', '--help', '-V', '--version'];

export async function main(argv: string[]): Promise<number> {
  try {
    const o = parseArgs(argv.filter((arg) => !HELP_AND_VERSION_FLAGS.includes(arg)));
    if (argv.includes('-h') || argv.includes('--help') || o.command === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    if (argv.includes('-V') || argv.includes('--version')) {
      const { readFileSync } = await import('node:fs');
      const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string };
      console.log(pkg.version);
      return 0;
    }
    switch (o.command) {
      case 'encode': return await encodeCommand(o);
      case 'decode': return await decodeCommand(o);
      case 'info': await infoCommand(o); return 0;
      case 'compare': await compareCommand(o); return 0;
      case 'eval': { const { evalCommand } = await import('./eval/eval.js'); await evalCommand(o); return 0; }
      case '': return fail('USAGE', 'no command (try --help)');
      default: return fail('USAGE', `unknown command '${o.command}' (try --help)`);
    }
  } catch (e) {
    if (e instanceof AaraError) {
      console.error(`aara: error ${e.code}: ${e.message}`);
      return e.exitCode;
    }
    console.error(`aara: internal error: ${(e as Error).stack ?? e}`);
    return 1;
  }
}
