/**
 * aara command line: encode, decode, info (and eval, see src/eval.ts). Conventions follow cwebp/avifenc.
 * Every failure is an AaraError with a documented exit status; nothing is written unless complete.
 */
import { availableParallelism } from 'node:os';
import { basename, extname, join } from 'node:path';
import { decodeSync, defaultLevel, encodeSync, type EncodeOptions } from './codec.js';
import { FLAG_GRAYSCALE, readHeader, type Limits } from './container.js';
import { AaraError, fail } from './errors.js';
import { checkOutputs, readInput, writeOutput } from './files.js';
import { decodeImage, encodePng, type RgbImage } from './image-io.js';
import { bpp, psnr } from './metrics.js';
import { decodeParallel, encodeParallel, loadWeightFile } from './parallel.js';
import { WorkerPool } from './pool.js';
import { hexBytes, type Weights } from './weights.js';

export const HELP = `aara — learned image codec (AARA: dual-branch attention residual autoencoder)

Usage:
  aara encode <in.png|in.jpg>... (-o out.aara | -d outdir) [-q N | --target-bpp X]
  aara decode <in.aara>... (-o out.png | -d outdir)
  aara info <in.aara>
  aara eval <dir-of-images> [--levels 0,2,4] [--out results/] [--quick]

Options:
  -o, --output FILE    output file (one input only)
  -d, --outdir DIR     output folder for several inputs (names: input name + .aara / .png)
  -q, --level N        quality level 0 (smallest) … L−1 (best); default 5 (≈ 0.7 bpp)
      --target-bpp X   pick the best level whose file is at most X bits per pixel
      --weights FILE   weight file (default: the packaged weights/aara.bin)
      --threads N      worker threads (default: number of cores; 1 codes on the main thread)
      --max-pixels N   refuse images (in and out) above N pixels (default 25165824 = 24 Mpixel)
  -f, --force          replace an existing output file (an input is never replaced)
      --quiet          print nothing on success
      --json           print one JSON object per file
  -h, --help           this help
  -v, --version        print the version

Exit status: 0 success; 1 internal error; 2 bad command line or option value; 3 unreadable, corrupt,
unsupported or too large input (image or .aara); 4 invalid weight file; 5 file system error (missing
input, output exists, output would replace an input, two inputs would write one output).
`;

interface Options {
  command: string;
  inputs: string[];
  output?: string;
  outdir?: string;
  level?: number;
  targetBpp?: number;
  weights?: string;
  threads?: number;
  maxPixels?: number;
  force: boolean;
  quiet: boolean;
  json: boolean;
  levels?: number[];
  out?: string;
  quick: boolean;
}

const VALUE_FLAGS: Record<string, keyof Options> = {
  '-o': 'output', '--output': 'output', '-d': 'outdir', '--outdir': 'outdir', '-q': 'level', '--level': 'level',
  '--target-bpp': 'targetBpp', '--weights': 'weights', '--threads': 'threads', '--max-pixels': 'maxPixels', '--levels': 'levels', '--out': 'out',
};
const BOOLEAN_FLAGS: Record<string, 'force' | 'quiet' | 'json' | 'quick'> = {
  '-f': 'force', '--force': 'force', '--quiet': 'quiet', '--json': 'json', '--quick': 'quick',
};

function number(flag: string, text: string, integer: boolean, min: number): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min) {
    fail('USAGE', `${flag} needs ${integer ? 'an integer' : 'a number'} ≥ ${min}, got '${text}'`);
  }
  return v;
}

export function parseArgs(argv: string[]): Options {
  const o: Options = { command: '', inputs: [], force: false, quiet: false, json: false, quick: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag in BOOLEAN_FLAGS) {
      o[BOOLEAN_FLAGS[flag]] = true;
    } else if (flag in VALUE_FLAGS) {
      const value = inline ?? argv[++i];
      if (value === undefined) fail('USAGE', `${flag} needs a value`);
      const key = VALUE_FLAGS[flag];
      if (key === 'level') o.level = number(flag, value, true, 0);
      else if (key === 'threads') o.threads = number(flag, value, true, 1);
      else if (key === 'maxPixels') o.maxPixels = number(flag, value, true, 1);
      else if (key === 'targetBpp') o.targetBpp = number(flag, value, false, Number.MIN_VALUE);
      else if (key === 'levels') o.levels = value.split(',').map((v) => number(flag, v, true, 0));
      else (o as unknown as Record<string, string>)[key] = value;
    } else if (flag.startsWith('-') && flag !== '-') {
      fail('USAGE', `unknown option ${flag} (see --help)`);
    } else if (!o.command) {
      o.command = arg;
    } else {
      o.inputs.push(arg);
    }
  }
  return o;
}

function outputFor(o: Options, input: string, ext: string): string {
  if (o.output) return o.output;
  if (o.outdir) return join(o.outdir, basename(input, extname(input)) + ext);
  return fail('USAGE', `no output: give -o FILE or -d DIR`);
}

/** The command line's outputs, one per input, every one checked before any work (files.ts: checkOutputs). */
function plannedOutputs(o: Options, ext: string): string[] {
  if (o.inputs.length === 0) fail('USAGE', `${o.command} needs at least one input file`);
  if (o.output && o.outdir) fail('USAGE', '-o and -d exclude each other');
  if (o.output && o.inputs.length > 1) fail('USAGE', '-o takes one input; use -d DIR for several');
  const outputs = o.inputs.map((input) => outputFor(o, input, ext));
  checkOutputs(outputs, { force: o.force, inputs: o.inputs });
  return outputs;
}

/** --max-pixels, over the default limits. */
function limitsOf(o: Options): Partial<Limits> | undefined {
  return o.maxPixels === undefined ? undefined : { maxPixels: o.maxPixels };
}

/** The codec a command runs: the synchronous one for --threads 1, else the worker pool (the same bytes). */
interface Codec {
  weights: Weights;
  encode(img: RgbImage, opts: EncodeOptions): Promise<Uint8Array>;
  decode(bytes: Uint8Array, limits?: Partial<Limits>): Promise<RgbImage>;
  /** stops the workers, so that the process can exit */
  close(): Promise<void>;
}

function openCodec(o: Options): Codec {
  const { weights, bytes: weightBytes } = loadWeightFile(o.weights);
  if ((o.threads ?? availableParallelism()) === 1) {
    return {
      weights,
      encode: async (img, opts) => encodeSync(img, weights, opts),
      decode: async (bytes, limits) => decodeSync(bytes, weights, { limits }),
      close: async () => {},
    };
  }
  const pool = new WorkerPool(o.threads);
  return {
    weights,
    encode: (img, opts) => encodeParallel(img, weights, weightBytes, { ...opts, pool }),
    decode: (bytes, limits) => decodeParallel(bytes, weights, weightBytes, { limits, pool }),
    close: () => pool.close(),
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

/** Highest level whose file fits the target bpp (bpp grows with the level); the lowest if none fits. */
async function encodeToTarget(img: RgbImage, codec: Codec, target: number, grayscale: boolean, limits?: Partial<Limits>) {
  let lo = 0;
  let hi = codec.weights.config.levels - 1;
  let best = { level: 0, bytes: await codec.encode(img, { level: 0, grayscale, limits }) };
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const bytes = mid === 0 ? best.bytes : await codec.encode(img, { level: mid, grayscale, limits });
    if (bpp(bytes.length, img.width, img.height) <= target) {
      best = { level: mid, bytes };
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

class Progress {
  private readonly enabled: boolean;
  constructor(private readonly total: number, quiet: boolean) {
    this.enabled = !quiet && total > 1 && Boolean(process.stderr.isTTY);
  }
  tick(done: number, label: string): void {
    if (!this.enabled) return;
    const width = 30;
    const filled = Math.round((width * done) / this.total);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${label.slice(0, 40).padEnd(40)}`);
    if (done === this.total) process.stderr.write('\n');
  }
}

function report(o: Options, text: string, fields: Record<string, unknown>): void {
  if (o.quiet) return;
  console.log(o.json ? JSON.stringify(fields) : text);
}

async function encodeCommand(o: Options): Promise<void> {
  if (o.level !== undefined && o.targetBpp !== undefined) fail('USAGE', '-q and --target-bpp exclude each other');
  const outputs = plannedOutputs(o, '.aara');
  await withCodec(o, (codec) => encodeFiles(o, codec, outputs));
}

async function encodeFiles(o: Options, codec: Codec, outputs: string[]): Promise<void> {
  const progress = new Progress(o.inputs.length, o.quiet || o.json);
  const limits = limitsOf(o);
  for (const [i, input] of o.inputs.entries()) {
    const output = outputs[i];
    const img = decodeImage(readInput(input), limits);
    const started = performance.now();
    const grayscale = img.info.grayscale;
    const encodeAt = async (level: number) => ({ level, bytes: await codec.encode(img, { level, grayscale, limits }) });
    const { level, bytes } = o.targetBpp !== undefined
      ? await encodeToTarget(img, codec, o.targetBpp, grayscale, limits)
      : await encodeAt(o.level ?? defaultLevel(codec.weights));
    const encodeSeconds = (performance.now() - started) / 1000;
    await writeOutput(output, bytes, { force: o.force, inputs: o.inputs });
    // the quality reported is that of the file as written: decode it back
    const decoded = await codec.decode(bytes, limits);
    const rate = bpp(bytes.length, img.width, img.height);
    const quality = psnr(img.data, decoded.data);
    progress.tick(i + 1, input);
    report(o,
      `${input} → ${output}: ${img.width}×${img.height}, level ${level}, ${bytes.length} bytes, ${rate.toFixed(4)} bpp, ` +
      `PSNR ${quality.toFixed(2)} dB, encode ${encodeSeconds.toFixed(2)} s` +
      (img.info.droppedAlpha ? ' (alpha channel dropped)' : ''),
      { input, output, width: img.width, height: img.height, level, bytes: bytes.length, bpp: rate, psnr: quality, encodeSeconds, droppedAlpha: img.info.droppedAlpha });
  }
}

async function decodeCommand(o: Options): Promise<void> {
  const outputs = plannedOutputs(o, '.png');
  await withCodec(o, (codec) => decodeFiles(o, codec, outputs));
}

async function decodeFiles(o: Options, codec: Codec, outputs: string[]): Promise<void> {
  const progress = new Progress(o.inputs.length, o.quiet || o.json);
  for (const [i, input] of o.inputs.entries()) {
    const output = outputs[i];
    const bytes = readInput(input);
    const started = performance.now();
    const img = await codec.decode(bytes, limitsOf(o));
    const decodeSeconds = (performance.now() - started) / 1000;
    await writeOutput(output, encodePng(img), { force: o.force, inputs: o.inputs });
    progress.tick(i + 1, input);
    report(o, `${input} → ${output}: ${img.width}×${img.height}, decode ${decodeSeconds.toFixed(2)} s`,
      { input, output, width: img.width, height: img.height, decodeSeconds });
  }
}

function infoCommand(o: Options): void {
  if (o.inputs.length !== 1) fail('USAGE', 'info takes one .aara file');
  const bytes = readInput(o.inputs[0]);
  const h = readHeader(bytes, limitsOf(o));
  const weightsId = hexBytes(h.weightsId);
  const rate = bpp(bytes.length, h.width, h.height);
  report(o,
    `${o.inputs[0]}: aara v${h.version}, ${h.width}×${h.height}, level ${h.level}, ${bytes.length} bytes, ` +
    `${rate.toFixed(4)} bpp, ${h.streamCount} streams, weights ${weightsId}${h.flags & FLAG_GRAYSCALE ? ', grayscale source' : ''}`,
    { file: o.inputs[0], version: h.version, width: h.width, height: h.height, level: h.level, bytes: bytes.length, bpp: rate, streams: h.streamCount, weightsId, grayscale: Boolean(h.flags & FLAG_GRAYSCALE) });
}

/** Answered by main() before any command runs (`aara encode --help` is help): not parseArgs' business. */
const HELP_AND_VERSION_FLAGS = ['-h', '--help', '-v', '--version'];

export async function main(argv: string[]): Promise<number> {
  try {
    const o = parseArgs(argv.filter((arg) => !HELP_AND_VERSION_FLAGS.includes(arg)));
    if (argv.includes('-h') || argv.includes('--help') || o.command === 'help') {
      process.stdout.write(HELP);
      return 0;
    }
    if (argv.includes('-v') || argv.includes('--version')) {
      const { readFileSync } = await import('node:fs');
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
      console.log(pkg.version);
      return 0;
    }
    switch (o.command) {
      case 'encode': await encodeCommand(o); break;
      case 'decode': await decodeCommand(o); break;
      case 'info': infoCommand(o); break;
      case 'eval': { const { evalCommand } = await import('./eval.js'); await evalCommand(o); break; }
      case '': fail('USAGE', 'no command (try --help)');
      default: fail('USAGE', `unknown command '${o.command}' (try --help)`);
    }
    return 0;
  } catch (e) {
    if (e instanceof AaraError) {
      console.error(`aara: error ${e.code}: ${e.message}`);
      return e.exitCode;
    }
    console.error(`aara: internal error: ${(e as Error).stack ?? e}`);
    return 1;
  }
}
