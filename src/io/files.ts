/**
 * File handling for the CLI: read an input whole, write an output atomically (a temp file in the target's
 * directory, fsynced, then renamed over it) so a crash or an error never leaves a partial file behind.
 * Outputs are checked before any work (checkOutputs: exists, is an input, missing folder, two inputs onto one
 * output); SIGINT/SIGTERM/SIGHUP during a write let it finish and then end the process (writeOutput); a temp
 * file left by a killed run of this tool is removed by the next write to the same output.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  realpathSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { AaraError, fail } from '../core/errors.js';

/** The name that stands for standard input (as an input) or standard output (as an output). */
export const STDIO = '-';

/**
 * The most bytes an input may have when images are limited to `maxPixels`: 16 per pixel (a 16-bit RGBA PNG
 * stored without compression needs 8) plus 4 MiB for headers and metadata (an ICC profile, EXIF). A file above
 * it is refused before it is read, standard input as soon as it passes it: TOO_LARGE.
 */
export function inputByteLimit(maxPixels: number): number {
  return 16 * maxPixels + 4 * 1024 * 1024;
}

/**
 * The whole content of a regular file. Devices and pipes are refused: they could stream without end. Above
 * `maxBytes`, TOO_LARGE before anything is read. `allocate` gives the array it is read into (weight files: shared memory).
 */
export function readInput(path: string, maxBytes = Infinity, allocate = (length: number): Uint8Array => new Uint8Array(length)): Uint8Array {
  let fd: number;
  try {
    // Non-blocking so that opening a FIFO returns at once (and is then refused) instead of waiting for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    return failForFileError(err, path);
  }
  try {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) fail('IO_ERROR', `${path} is a directory`);
    if (!stats.isFile()) fail('IO_ERROR', `${path} is not a regular file`);
    if (stats.size > maxBytes) fail('TOO_LARGE', `${path} has ${stats.size} bytes, the limit is ${maxBytes} (see --max-pixels)`);
    const bytes = allocate(stats.size);
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(fd, bytes, filled, bytes.length - filled, null);
      if (read === 0) break; // the file shrank while we read it
      filled += read;
    }
    return bytes.subarray(0, filled);
  } catch (err) {
    return failForFileError(err, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * An input named on the command line: `-` is standard input, read to its end but never past `maxBytes` (then
 * TOO_LARGE, and the rest is not read); any other name is a regular file (readInput).
 */
export async function readSource(path: string, maxBytes = Infinity): Promise<Uint8Array> {
  if (path !== STDIO) return readInput(path, maxBytes);
  const stdin = process.stdin;
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of stdin as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) fail('TOO_LARGE', `standard input exceeds ${maxBytes} bytes (see --max-pixels)`);
      chunks.push(chunk);
    }
  } catch (err) {
    stdin.destroy(); // stop reading: the writer gets EPIPE
    if (err instanceof AaraError) throw err;
    fail('IO_ERROR', `cannot read standard input: ${(err as Error).message}`);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/**
 * Writes `bytes` whole to standard output (a pipe or a file, never a terminal: USAGE, checked by the caller with
 * refuseTerminalOutput). A reader that went away is IO_ERROR.
 */
export async function writeStdout(bytes: Uint8Array): Promise<void> {
  const stdout = process.stdout;
  let failure: Error | undefined;
  const onError = (err: Error) => void (failure ??= err);
  stdout.on('error', onError);
  try {
    await new Promise<void>((resolve) => stdout.write(bytes, (err) => {
      if (err) failure ??= err;
      resolve();
    }));
  } finally {
    stdout.removeListener('error', onError);
  }
  if (failure !== undefined) fail('IO_ERROR', `cannot write standard output: ${failure.message}`);
}

/** `-o -` onto a terminal would print binary data: refused before any work. */
export function refuseTerminalOutput(): void {
  if (process.stdout.isTTY) fail('USAGE', 'standard output is a terminal: redirect it (> file, | program) to write to it');
}

/**
 * Creates folder `path` and any missing parents (`-d DIR`); returns an undo that removes what it created, if
 * still empty (for a command refused by the checks that follow). A file in the way is IO_ERROR.
 */
export function createDirectory(path: string): () => void {
  let first: string | undefined;
  try {
    first = mkdirSync(path, { recursive: true });
    if (!statSync(path).isDirectory()) fail('IO_ERROR', `${path} is not a folder`);
  } catch (err) {
    if (err instanceof AaraError) throw err;
    fail('IO_ERROR', `cannot create folder ${path}: ${(err as Error).message}`);
  }
  return () => {
    if (first === undefined) return;
    const top = resolve(first);
    for (let dir = resolve(path); ; dir = dirname(dir)) {
      try {
        rmdirSync(dir);
      } catch {
        return; // not empty any more, or gone: leave it
      }
      if (dir === top || dirname(dir) === dir) return;
    }
  };
}

/**
 * Writes `bytes` to `path` atomically. Refuses (even with force) when the output is one of the inputs, after
 * following symbolic links and relative paths; refuses an existing output unless `force`. The data goes to
 * `.<name>.<pid>.<random>.tmp` next to the real target, is fsynced and renamed over it; on any failure the temp
 * file is removed. A symbolic link as output is written through: its target is replaced, the link kept.
 */
export function writeOutputAtomic(path: string, bytes: Uint8Array, opts: OutputOptions): void {
  const target = checkOutput(path, opts);
  removeStaleTemps(target);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(TEMP_RANDOM_BYTES).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', 0o666);
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, target);
  } catch (err) {
    if (fd !== undefined) closeQuietly(fd);
    removeQuietly(temp);
    fail('IO_ERROR', `cannot write ${path}: ${(err as Error).message}`);
  }
  syncDirectory(dirname(target));
}

export interface OutputOptions {
  force: boolean;
  inputs: string[];
}

/**
 * What writeOutputAtomic refuses, checked without writing: the output is an input (even with force), a
 * directory, exists (without force), or its folder is missing. Returns the real path it would land on.
 */
export function checkOutput(path: string, opts: OutputOptions): string {
  const target = resolveOutput(path);
  const targetStats = statOrUndefined(target);
  if (opts.inputs.some((input) => isSameFile(target, targetStats, input))) fail('OUTPUT_IS_INPUT', path);
  if (targetStats?.isDirectory()) fail('IO_ERROR', `${path} is a directory`);
  if ((targetStats !== undefined || isDanglingLink(target)) && !opts.force) fail('OUTPUT_EXISTS', path);
  return target;
}

/**
 * checkOutput for every output of a run, before any work, and no two outputs the same file (`encode a.png a.jpg
 * -d out` would write both to out/a.aara): OUTPUT_COLLISION, even with force.
 */
export function checkOutputs(paths: string[], opts: OutputOptions): void {
  const seen = new Map<string, string>();
  for (const path of paths) {
    const target = checkOutput(path, opts);
    const stats = statOrUndefined(target);
    const key = stats ? `${stats.dev}:${stats.ino}` : target;
    const earlier = seen.get(key) ?? seen.get(target);
    if (earlier !== undefined) fail('OUTPUT_COLLISION', `${earlier} and ${path} are the same file`);
    seen.set(key, path);
    seen.set(target, path);
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * writeOutputAtomic for a process that may be interrupted: a SIGINT, SIGTERM or SIGHUP that arrives during the
 * write (Node's default would end the process at once, leaving the temp file) waits until the output is renamed
 * into place, then ends the process by that signal. Outside writes, signals keep their default effect.
 */
export async function writeOutput(path: string, bytes: Uint8Array, opts: OutputOptions): Promise<void> {
  let caught: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => void (caught ??= signal);
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  try {
    writeOutputAtomic(path, bytes, opts);
  } finally {
    // two turns of the event loop: a full poll phase between them delivers a signal that came during the write
    await new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
    for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
  }
  if (caught !== undefined) {
    process.kill(process.pid, caught); // the default action now: the process ends as the signal asked
    await new Promise(() => {});
  }
}

/** Temp files: `.<output name>.<pid>.<12 hex digits>.tmp` beside the output. */
const TEMP_RANDOM_BYTES = 6;
/** A temp file whose process is gone is stale after a minute (another host or container may share the folder)… */
const STALE_DEAD_MS = 60_000;
/** …and after an hour whatever its pid says (a write takes seconds; the pid may have been reused). */
const STALE_ANY_MS = 3_600_000;

/**
 * Removes temp files a killed run of this tool left for `target`: only regular files of this user named like
 * this tool's temps for that very output, whose process no longer runs here and that are a minute old, or
 * that are an hour old. Anything else in the folder is left alone; failures are ignored.
 */
export function removeStaleTemps(target: string, now = Date.now()): void {
  const directory = dirname(target);
  const prefix = `.${basename(target)}.`;
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return;
  }
  const pattern = new RegExp(`^(\\d+)\\.[0-9a-f]{${2 * TEMP_RANDOM_BYTES}}\\.tmp$`);
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = pattern.exec(name.slice(prefix.length));
    if (!match) continue;
    const path = join(directory, name);
    try {
      const stats = lstatSync(path);
      if (!stats.isFile() || (process.getuid !== undefined && stats.uid !== process.getuid())) continue;
      const age = now - stats.mtimeMs;
      if (age > STALE_ANY_MS || (age > STALE_DEAD_MS && !isRunning(Number(match[1])))) unlinkSync(path);
    } catch {
      // gone already, or not ours to remove
    }
  }
}

function isRunning(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid < 1) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // runs, as another user
  }
}

/** The real path the output lands on: the existing file's, or its real directory's plus the file name. */
function resolveOutput(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    // Missing (or a dangling link): the directory must exist.
  }
  const directory = dirname(resolve(path));
  let realDirectory: string;
  try {
    realDirectory = realpathSync(directory);
  } catch {
    return fail('IO_ERROR', `output directory ${directory} does not exist`);
  }
  return join(realDirectory, basename(path));
}

/** Same file by real path, or by device and inode (hard links, case-insensitive file systems). */
function isSameFile(target: string, targetStats: Stats | undefined, input: string): boolean {
  let inputPath: string;
  try {
    inputPath = realpathSync(input);
  } catch {
    return false; // a missing input cannot be overwritten
  }
  if (inputPath === target) return true;
  const inputStats = statOrUndefined(inputPath);
  return targetStats !== undefined && inputStats !== undefined && inputStats.dev === targetStats.dev && inputStats.ino === targetStats.ino;
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function isDanglingLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // the write already failed; that error is the one to report
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or never created
  }
}

/** Makes the rename itself durable; some file systems cannot fsync a directory, and the data is already safe. */
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function failForFileError(err: unknown, path: string): never {
  if (err instanceof AaraError) throw err;
  if (err instanceof Error && 'code' in err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') fail('FILE_NOT_FOUND', path);
    if (code === 'EISDIR') fail('IO_ERROR', `${path} is a directory`);
    return fail('IO_ERROR', `${path}: ${err.message}`);
  }
  throw err;
}
