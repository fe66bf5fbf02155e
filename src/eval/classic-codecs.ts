/**
 * The classic codecs aara is measured against, each through its reference command-line tools (Debian packages
 * libjpeg-turbo-progs, libopenjp2-tools, webp, libavif-bin). Images go to the tools as PPM or PNG written by our
 * own code and come back the same way, so every codec is scored by the same metric code on the same pixels.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { fail } from '../core/errors.js';
import { readInput } from '../io/files.js';
import { decodeImage, encodePng } from '../io/image-io.js';
import type { RgbImage } from '../io/pixels.js';
import type { ToolReply, ToolRequest } from './tool-worker.js';

type FileFormat = 'ppm' | 'png';

export interface ClassicSetting {
  label: string;
  /** the tool options that select this rate */
  options: string[];
}

export interface ClassicCodec {
  name: string;
  debianPackage: string;
  encoder: string;
  decoder: string;
  /** the encoder command shape, for reports */
  command: string;
  inputFormat: FileFormat;
  outputFormat: FileFormat;
  extension: string;
  /** ordered from the lowest to the highest rate */
  settings: ClassicSetting[];
  encodeArgs(setting: ClassicSetting, input: string, output: string, image: RgbImage): string[];
  decodeArgs(input: string, output: string): string[];
  /** the library behind the tools, and the encoder arguments that print its version */
  library: string;
  versionArgs: string[];
}

/** Raw 8-bit RGB: the base of JPEG 2000's compression ratio. */
const RAW_BITS_PER_PIXEL = 24;
const JPEG2000_TARGET_BPP = [0.05, 0.1, 0.15, 0.25, 0.4, 0.6, 0.9, 1.4, 2];
const JPEG2000_MAX_RESOLUTIONS = 6;

/** Sweeps chosen to cover about 0.05–2 bpp on Kodak (easy images land lower, hard ones higher). */
export const CLASSIC_CODECS: readonly ClassicCodec[] = [
  {
    name: 'JPEG',
    debianPackage: 'libjpeg-turbo-progs',
    encoder: 'cjpeg',
    decoder: 'djpeg',
    command: 'cjpeg -quality Q -optimize (4:2:0)',
    inputFormat: 'ppm',
    outputFormat: 'ppm',
    extension: 'jpg',
    settings: [1, 3, 5, 10, 15, 20, 30, 40, 50, 60, 75, 90].map((q) => ({ label: `quality ${q}`, options: ['-quality', String(q)] })),
    encodeArgs: (s, input, output) => [...s.options, '-optimize', '-outfile', output, input],
    decodeArgs: (input, output) => ['-pnm', '-outfile', output, input],
    library: 'libjpeg-turbo',
    versionArgs: ['-version'],
  },
  {
    name: 'JPEG 2000',
    debianPackage: 'libopenjp2-tools',
    encoder: 'opj_compress',
    decoder: 'opj_decompress',
    command: 'opj_compress -I -r 24/bpp (9/7 wavelet, one layer, .jp2)',
    inputFormat: 'ppm',
    outputFormat: 'ppm',
    extension: 'jp2',
    settings: JPEG2000_TARGET_BPP.map((target) => {
      const ratio = Number((RAW_BITS_PER_PIXEL / target).toFixed(2));
      return { label: `ratio ${ratio} (${target} bpp)`, options: ['-r', String(ratio)] };
    }),
    // -I: the irreversible 9/7 wavelet meant for lossy coding (the default 5/3 is the lossless one).
    // Fewer resolution levels for tiny images: the smallest one must keep at least a pixel.
    encodeArgs: (s, input, output, image) => {
      const resolutions = Math.min(JPEG2000_MAX_RESOLUTIONS, Math.floor(Math.log2(Math.min(image.width, image.height))) + 1);
      return ['-i', input, '-o', output, ...s.options, '-I', '-n', String(resolutions)];
    },
    decodeArgs: (input, output) => ['-i', input, '-o', output],
    library: 'openjp2',
    versionArgs: ['-h'],
  },
  {
    name: 'WebP',
    debianPackage: 'webp',
    encoder: 'cwebp',
    decoder: 'dwebp',
    command: 'cwebp -q Q -m 6',
    inputFormat: 'png',
    outputFormat: 'ppm',
    extension: 'webp',
    settings: [0, 5, 10, 20, 35, 50, 65, 80, 90].map((q) => ({ label: `quality ${q}`, options: ['-q', String(q)] })),
    encodeArgs: (s, input, output) => ['-quiet', ...s.options, '-m', '6', input, '-o', output],
    decodeArgs: (input, output) => ['-quiet', input, '-ppm', '-o', output],
    library: 'libwebp',
    versionArgs: ['-version'],
  },
  {
    name: 'AVIF',
    debianPackage: 'libavif-bin',
    encoder: 'avifenc',
    decoder: 'avifdec',
    command: 'avifenc --min Q --max Q -s 6 -y 420',
    inputFormat: 'png',
    outputFormat: 'png',
    extension: 'avif',
    settings: [63, 56, 50, 44, 38, 32, 26, 20, 14].map((q) => ({ label: `quantizer ${q}`, options: ['--min', String(q), '--max', String(q)] })),
    encodeArgs: (s, input, output) => ['-s', '6', '-y', '420', '-j', '1', ...s.options, input, output],
    decodeArgs: (input, output) => ['-d', '8', input, output],
    library: 'libavif',
    versionArgs: ['-V'],
  },
];

/** Whether `program` is an executable file on the PATH. */
export function isInstalled(program: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    if (!dir) return false;
    try {
      const path = join(dir, program);
      accessSync(path, constants.X_OK);
      return statSync(path).isFile();
    } catch {
      return false;
    }
  });
}

/** The library and the first version number its encoder prints, e.g. 'libwebp 1.2.4'. */
export function toolVersion(codec: ClassicCodec): string {
  const run = spawnSync(codec.encoder, codec.versionArgs, { encoding: 'utf8', timeout: 10_000 });
  const version = /\d+\.\d+(\.\d+)?/.exec(`${run.stdout ?? ''}\n${run.stderr ?? ''}`)?.[0];
  return version ? `${codec.library} ${version}` : codec.library;
}

export interface CodedImage {
  bytes: number;
  decoded: RgbImage;
  encodeSeconds: number;
  decodeSeconds: number;
}

const TOOL_TIMEOUT_MS = 120_000;

/**
 * Codes images with one classic codec in `workDir`. The source file is written once per image (kept for the
 * following settings); times are the wall time of each tool process, start-up included. Calls may overlap
 * (the eval runs a codec's settings side by side): each call has its own output files, removed when it ends.
 */
export class ClassicCoder {
  private source?: { image: RgbImage; path: string };
  private jobs = 0;

  constructor(readonly codec: ClassicCodec, private readonly workDir: string, private readonly tools: ToolRunner) {}

  async code(image: RgbImage, setting: ClassicSetting): Promise<CodedImage> {
    const { codec } = this;
    const input = this.sourceFile(image);
    const job = this.jobs++;
    const compressed = join(this.workDir, `${codec.encoder}-${job}.${codec.extension}`);
    const decodedPath = join(this.workDir, `${codec.decoder}-${job}.${codec.outputFormat}`);
    try {
      const encodeSeconds = await this.tools.run(codec.encoder, codec.encodeArgs(setting, input, compressed, image));
      const decodeSeconds = await this.tools.run(codec.decoder, codec.decodeArgs(compressed, decodedPath));
      const decodedBytes = readInput(decodedPath);
      const decoded = codec.outputFormat === 'ppm' ? readPpm(decodedBytes) : decodeImage(decodedBytes);
      if (decoded.width !== image.width || decoded.height !== image.height) {
        fail('BAD_IMAGE', `${codec.decoder} returned ${decoded.width}×${decoded.height} for a ${image.width}×${image.height} image`);
      }
      return { bytes: statSync(compressed).size, decoded, encodeSeconds, decodeSeconds };
    } finally {
      for (const path of [compressed, decodedPath]) rmSync(path, { force: true });
    }
  }

  /** Written synchronously on the first call for an image, so overlapping calls find it there. */
  private sourceFile(image: RgbImage): string {
    if (this.source?.image !== image) {
      const path = join(this.workDir, `source-${this.codec.encoder}.${this.codec.inputFormat}`);
      writeFileSync(path, this.codec.inputFormat === 'ppm' ? writePpm(image) : encodePng(image));
      this.source = { image, path };
    }
    return this.source.path;
  }
}

const TOOL_WORKER = new URL('./tool-worker.js', import.meta.url);

/**
 * Runs tools without a shell, each from a worker thread that times it: the main thread may be busy meanwhile
 * (scoring another step) without that delay counting as the tool's time. One worker per call in flight, kept
 * for the next call: the callers' concurrency bounds the workers.
 */
export class ToolRunner {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];

  /** Resolves to the tool's wall time in seconds; fails with its stderr when it fails. */
  async run(program: string, args: string[]): Promise<number> {
    const worker = this.idle.pop() ?? this.started();
    try {
      const reply = await new Promise<ToolReply>((resolve, reject) => {
        worker.once('message', (r: ToolReply) => {
          worker.off('error', reject);
          resolve(r);
        });
        worker.once('error', reject);
        worker.postMessage({ program, args, timeoutMs: TOOL_TIMEOUT_MS } satisfies ToolRequest);
      });
      if (reply.error !== undefined || reply.status !== 0) {
        const reason = reply.error ?? (reply.signal ? `killed by ${reply.signal}` : `exit status ${reply.status}`);
        const tail = reply.stderr.trim().split('\n').slice(-3).join(' / ');
        fail('TOOL_FAILED', `${program} ${args.join(' ')} failed (${reason})${tail ? `: ${tail}` : ''}`);
      }
      return reply.seconds;
    } finally {
      this.idle.push(worker);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((worker) => worker.terminate()));
    this.all.length = 0;
    this.idle.length = 0;
  }

  private started(): Worker {
    const worker = new Worker(TOOL_WORKER);
    this.all.push(worker);
    return worker;
  }
}

/** Binary PPM (P6, 8-bit). */
export function writePpm(image: RgbImage): Uint8Array {
  const header = new TextEncoder().encode(`P6\n${image.width} ${image.height}\n255\n`);
  const bytes = new Uint8Array(header.length + image.data.length);
  bytes.set(header);
  bytes.set(image.data, header.length);
  return bytes;
}

/** Reads a binary 8-bit PPM (P6) as the tools write it, comments in the header included. */
export function readPpm(bytes: Uint8Array): RgbImage {
  let pos = 0;
  const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
  const nextToken = (): string => {
    for (;;) {
      while (pos < bytes.length && isSpace(bytes[pos])) pos++;
      if (bytes[pos] !== 0x23) break; // '#': a comment runs to the end of the line
      while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
    }
    const start = pos;
    while (pos < bytes.length && !isSpace(bytes[pos])) pos++;
    return String.fromCharCode(...bytes.subarray(start, pos));
  };
  const magic = nextToken();
  const width = Number(nextToken());
  const height = Number(nextToken());
  const maxValue = Number(nextToken());
  if (magic !== 'P6' || !(width >= 1 && height >= 1) || maxValue !== 255) {
    fail('BAD_IMAGE', `expected an 8-bit binary PPM, got header '${magic} ${width} ${height} ${maxValue}'`);
  }
  const start = pos + 1; // exactly one whitespace byte ends the header
  const data = bytes.slice(start, start + width * height * 3);
  if (data.length !== width * height * 3) fail('TRUNCATED', `PPM of ${width}×${height} has ${data.length} of ${width * height * 3} pixel bytes`);
  return { width, height, data };
}
