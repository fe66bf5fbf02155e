/**
 * File handling for the CLI: read an input whole, write an output atomically (a temp file in the target's
 * directory, fsynced, then renamed over it) so a crash or an error never leaves a partial file behind.
 */
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { AaraError, fail } from './errors.js';

/** The whole content of a regular file. Devices and pipes are refused: they could stream without end. */
export function readInput(path: string): Uint8Array {
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
    const bytes = new Uint8Array(stats.size);
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
 * Writes `bytes` to `path` atomically. Refuses (even with force) when the output is one of the inputs, after
 * following symbolic links and relative paths; refuses an existing output unless `force`. The data goes to
 * `.<name>.<pid>.<random>.tmp` next to the real target, is fsynced and renamed over it; on any failure the temp
 * file is removed. A symbolic link as output is written through: its target is replaced, the link kept.
 */
export function writeOutputAtomic(path: string, bytes: Uint8Array, opts: { force: boolean; inputs: string[] }): void {
  const target = resolveOutput(path);
  const targetStats = statOrUndefined(target);
  if (opts.inputs.some((input) => isSameFile(target, targetStats, input))) fail('OUTPUT_IS_INPUT', path);
  if (targetStats?.isDirectory()) fail('IO_ERROR', `${path} is a directory`);
  if ((targetStats !== undefined || isDanglingLink(target)) && !opts.force) fail('OUTPUT_EXISTS', path);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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
