/**
 * The command line as a user meets it: `node dist/cli.js` in a temp directory, with the tiny test weights. Exit
 * statuses follow the error table (2 usage, 3 bad input, 4 bad weights, 5 file system); a failed command leaves
 * the directory exactly as it was — no output, no temp file, an existing file untouched.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSync } from '../src/codec.js';
import { decodeImage, encodePng } from '../src/image-io.js';
import { fixCrc, streamBytes, withBitFlipped } from './helpers/bitstream-fuzz.js';
import { DEFAULT_LEVEL } from '../src/codec.js';
import { loadTestWeights, repoPath } from './helpers/fixtures.js';
import { syntheticImage } from './helpers/synthetic-images.js';

const CLI = repoPath('dist/cli.js');
const TINY = ['--weights', repoPath('weights/test-tiny.bin')];
/** the tiny model has levels 0 and 1 only: an explicit level keeps these tests off the default-level rule */
const ENCODE_TINY = ['-q', '1', ...TINY];
const SOURCE = syntheticImage(24, 16, 9);
const tiny = loadTestWeights('test-tiny.bin');
const root = mkdtempSync(join(tmpdir(), 'aara-cli-'));
let workspaces = 0;

/** A fresh directory holding in.png. */
function workspace(): string {
  const dir = join(root, String(workspaces++));
  mkdirSync(dir);
  writeFileSync(join(dir, 'in.png'), encodePng(SOURCE));
  return dir;
}

function aara(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Runs the CLI, expects `status`, and returns its output; the message says what it printed otherwise. */
function expectExit(status: number, cwd: string, ...args: string[]): { stdout: string; stderr: string } {
  const run = aara(cwd, ...args);
  assert.is(run.status, status, `aara ${args.join(' ')} → ${run.status}\n${run.stdout}${run.stderr}`);
  return run;
}

const listing = (dir: string) => readdirSync(dir).sort();
const bytesOf = (path: string) => new Uint8Array(readFileSync(path));

/** A workspace with in.png encoded to in.aara at level 1. */
function encodedWorkspace(): { dir: string; file: Uint8Array } {
  const dir = workspace();
  expectExit(0, dir, 'encode', 'in.png', '-o', 'in.aara', ...ENCODE_TINY);
  return { dir, file: bytesOf(join(dir, 'in.aara')) };
}

for (const level of [0, 1]) {
  test(`level ${level}: encode then decode gives the library's pixels, and nothing else in the directory`, () => {
    const dir = workspace();
    expectExit(0, dir, 'encode', 'in.png', '-o', 'out.aara', '-q', String(level), ...TINY);
    expectExit(0, dir, 'decode', 'out.aara', '-o', 'back.png', ...TINY);
    assert.equal(listing(dir), ['back.png', 'in.png', 'out.aara']);
    const back = decodeImage(bytesOf(join(dir, 'back.png')));
    const expected = decodeSync(bytesOf(join(dir, 'out.aara')), tiny);
    assert.equal([back.width, back.height], [SOURCE.width, SOURCE.height]);
    assert.ok(Buffer.from(back.data).equals(expected.data));
  });
}

test('an existing output is kept (exit 5) unless --force replaces it', () => {
  const { dir, file } = encodedWorkspace();
  writeFileSync(join(dir, 'out.aara'), 'precious');
  writeFileSync(join(dir, 'out.png'), 'precious');
  const { stderr } = expectExit(5, dir, 'encode', 'in.png', '-o', 'out.aara', ...ENCODE_TINY);
  assert.match(stderr, /--force/);
  expectExit(5, dir, 'decode', 'in.aara', '-o', 'out.png', ...TINY);
  assert.is(readFileSync(join(dir, 'out.aara'), 'utf8'), 'precious');
  assert.is(readFileSync(join(dir, 'out.png'), 'utf8'), 'precious');

  expectExit(0, dir, 'encode', 'in.png', '-o', 'out.aara', '--force', ...ENCODE_TINY);
  expectExit(0, dir, 'decode', 'in.aara', '-o', 'out.png', '-f', ...TINY);
  assert.ok(Buffer.from(bytesOf(join(dir, 'out.aara'))).equals(file));
  assert.is(decodeImage(bytesOf(join(dir, 'out.png'))).width, SOURCE.width);
  assert.equal(listing(dir), ['in.aara', 'in.png', 'out.aara', 'out.png']);
});

test('an output that is the input is refused (exit 5), even with --force', () => {
  const { dir, file } = encodedWorkspace();
  const png = bytesOf(join(dir, 'in.png'));
  expectExit(5, dir, 'encode', 'in.png', '-o', 'in.png', ...ENCODE_TINY);
  expectExit(5, dir, 'encode', 'in.png', '-o', './in.png', '--force', ...ENCODE_TINY);
  expectExit(5, dir, 'decode', 'in.aara', '-o', 'in.aara', '--force', ...TINY);
  assert.ok(Buffer.from(bytesOf(join(dir, 'in.png'))).equals(png));
  assert.ok(Buffer.from(bytesOf(join(dir, 'in.aara'))).equals(file));
  assert.equal(listing(dir), ['in.aara', 'in.png']);
});

test('a missing input is exit 5 with a message naming it', () => {
  const dir = workspace();
  for (const command of ['encode', 'decode']) {
    const { stderr } = expectExit(5, dir, command, 'nowhere.png', '-o', 'out', ...(command === 'encode' ? ENCODE_TINY : TINY));
    assert.match(stderr, /not found.*nowhere\.png/);
  }
  expectExit(5, dir, 'info', 'nowhere.aara');
  assert.equal(listing(dir), ['in.png']);
});

test('an unreadable image is exit 3 and writes nothing', () => {
  const dir = workspace();
  writeFileSync(join(dir, 'garbage.png'), 'this is not an image at all');
  writeFileSync(join(dir, 'broken.png'), Buffer.concat([readFileSync(join(dir, 'in.png')).subarray(0, 40), Buffer.alloc(30, 7)]));
  for (const input of ['garbage.png', 'broken.png']) expectExit(3, dir, 'encode', input, '-o', 'out.aara', ...ENCODE_TINY);
  assert.equal(listing(dir), ['broken.png', 'garbage.png', 'in.png']);
});

test('a corrupt .aara is exit 3 and leaves no output and no temp file', () => {
  const { dir, file } = encodedWorkspace();
  const { start } = streamBytes(file);
  const corrupt = {
    'truncated.aara': file.subarray(0, file.length - 5),
    'flipped.aara': withBitFlipped(file, 8 * start + 3),
    // passes the CRC, so only the entropy decoder can object: the first stream's rANS state is out of range
    'stream.aara': fixCrc(Uint8Array.from(file).fill(0, start, start + 4)),
    'garbage.aara': new TextEncoder().encode('AARA and then nonsense'),
  };
  for (const [name, bytes] of Object.entries(corrupt)) writeFileSync(join(dir, name), bytes);
  const before = listing(dir);
  for (const name of Object.keys(corrupt)) expectExit(3, dir, 'decode', name, '-o', 'out.png', ...TINY);
  assert.equal(listing(dir), before);
});

test('the wrong weights are exit 3 (file) or 4 (weight file)', () => {
  const { dir } = encodedWorkspace();
  const { stderr } = expectExit(3, dir, 'decode', 'in.aara', '-o', 'out.png', '--weights', repoPath('weights/aara.bin'));
  assert.match(stderr, /WEIGHTS_MISMATCH/);
  writeFileSync(join(dir, 'bad.bin'), 'AARAWGT\0 but nothing more of a weight file');
  expectExit(4, dir, 'decode', 'in.aara', '-o', 'out.png', '--weights', 'bad.bin');
  assert.equal(listing(dir), ['bad.bin', 'in.aara', 'in.png']);
});

test('a bad command line is exit 2', () => {
  const dir = workspace();
  const usage: string[][] = [
    [],
    ['transmogrify', 'in.png'],
    ['encode', 'in.png', '-o', 'out.aara', '--bogus'],
    ['encode', 'in.png', '-o', 'out.aara', '-q'],
    ['encode', 'in.png', '-o', 'out.aara', '-q', 'high'],
    ['encode', 'in.png', '-o', 'out.aara', '-q', '2.5'],
    ['encode', 'in.png', '-o', 'out.aara', '-q', '99', ...TINY],
    ['encode', 'in.png', 'in.png', '-o', 'out.aara'],
    ['encode', 'in.png'],
    ['decode'],
  ];
  for (const args of usage) expectExit(2, dir, ...args);
  assert.equal(listing(dir), ['in.png']);
});

test('--help prints the usage (after a command too), --version the version', () => {
  assert.match(expectExit(0, root, '--help').stdout, /Usage:/);
  assert.match(expectExit(0, root, 'encode', '-h').stdout, /Usage:/);
  const { version } = JSON.parse(readFileSync(repoPath('package.json'), 'utf8'));
  assert.is(expectExit(0, root, '--version').stdout.trim(), version);
});

test('info prints size and level; --json prints parseable JSON for every command', () => {
  const { dir, file } = encodedWorkspace();
  const { stdout } = expectExit(0, dir, 'info', 'in.aara');
  assert.match(stdout, /24×16, level 1/);

  const info = JSON.parse(expectExit(0, dir, 'info', 'in.aara', '--json').stdout);
  assert.equal([info.width, info.height, info.level, info.bytes], [24, 16, 1, file.length]);
  const encoded = JSON.parse(expectExit(0, dir, 'encode', 'in.png', '-o', 'again.aara', '-q', '0', '--json', ...TINY).stdout);
  assert.equal([encoded.width, encoded.height, encoded.level], [24, 16, 0]);
  assert.ok(encoded.bpp > 0 && Number.isFinite(encoded.psnr));
  const decoded = JSON.parse(expectExit(0, dir, 'decode', 'in.aara', '-o', 'out.png', '--json', ...TINY).stdout);
  assert.equal([decoded.width, decoded.height], [24, 16]);
});

test('without -q the level is DEFAULT_LEVEL, or the best level of a model that has fewer', () => {
  const dir = workspace();
  const tinyEncoded = JSON.parse(expectExit(0, dir, 'encode', 'in.png', '-o', 'tiny.aara', '--json', ...TINY).stdout);
  assert.is(tinyEncoded.level, Math.min(DEFAULT_LEVEL, tiny.config.levels - 1));
  assert.is(tinyEncoded.level, 1);
  const shipped = JSON.parse(expectExit(0, dir, 'encode', 'in.png', '-o', 'shipped.aara', '--json').stdout);
  assert.is(shipped.level, DEFAULT_LEVEL);
});

test('outputs that would collide (in.png and in.jpg into one folder) are refused before any work, even with --force', () => {
  const dir = workspace();
  writeFileSync(join(dir, 'in.jpg'), readFileSync(join(dir, 'in.png'))); // the reader sniffs the content
  mkdirSync(join(dir, 'out'));
  for (const force of [[], ['-f']]) {
    const { stderr } = expectExit(5, dir, 'encode', 'in.png', 'in.jpg', '-d', 'out', ...force, ...ENCODE_TINY);
    assert.match(stderr, /OUTPUT_COLLISION/);
  }
  assert.equal(listing(join(dir, 'out')), []);
  writeFileSync(join(dir, 'out', 'x.aara'), readFileSync(join(dir, 'in.png')));
  mkdirSync(join(dir, 'other'));
  writeFileSync(join(dir, 'other', 'x.aara'), readFileSync(join(dir, 'in.png')));
  expectExit(5, dir, 'decode', 'out/x.aara', 'other/x.aara', '-d', 'out', '-f', ...TINY);
  assert.equal(listing(join(dir, 'out')), ['x.aara']);
});

test('every output is checked before the first input is read or coded', () => {
  const dir = workspace();
  writeFileSync(join(dir, 'second.png'), readFileSync(join(dir, 'in.png')));
  mkdirSync(join(dir, 'out'));
  writeFileSync(join(dir, 'out', 'second.aara'), 'precious');
  // the second output exists: nothing is written for the first either
  assert.match(expectExit(5, dir, 'encode', 'in.png', 'second.png', '-d', 'out', ...ENCODE_TINY).stderr, /OUTPUT_EXISTS/);
  assert.equal(listing(join(dir, 'out')), ['second.aara']);
  // a missing folder, an output that is the input: refused before the (unreadable) input is looked at
  writeFileSync(join(dir, 'garbage.png'), 'not an image');
  assert.match(expectExit(5, dir, 'encode', 'garbage.png', '-o', 'missing/x.aara', ...ENCODE_TINY).stderr, /does not exist/);
  assert.match(expectExit(5, dir, 'decode', 'garbage.png', '-o', 'garbage.png', '-f', ...TINY).stderr, /OUTPUT_IS_INPUT/);
  assert.equal(listing(dir), ['garbage.png', 'in.png', 'out', 'second.png']);
});

test('--max-pixels caps the image read, encoded and decoded (exit 3); a bad value is exit 2', () => {
  const { dir } = encodedWorkspace();
  const pixels = SOURCE.width * SOURCE.height;
  assert.match(expectExit(3, dir, 'encode', 'in.png', '-o', 'x.aara', '--max-pixels', String(pixels - 1), ...ENCODE_TINY).stderr, /TOO_LARGE/);
  assert.match(expectExit(3, dir, 'decode', 'in.aara', '-o', 'x.png', '--max-pixels', String(pixels - 1), ...TINY).stderr, /TOO_LARGE/);
  assert.match(expectExit(3, dir, 'info', 'in.aara', '--max-pixels', String(pixels - 1)).stderr, /TOO_LARGE/);
  expectExit(0, dir, 'encode', 'in.png', '-o', 'x.aara', `--max-pixels=${pixels}`, ...ENCODE_TINY);
  expectExit(0, dir, 'decode', 'x.aara', '-o', 'x.png', '--max-pixels', String(pixels), ...TINY);
  for (const value of ['0', '-5', '1.5', 'many', '']) expectExit(2, dir, 'decode', 'in.aara', '-o', 'y.png', '--max-pixels', value, ...TINY);
  assert.equal(listing(dir), ['in.aara', 'in.png', 'x.aara', 'x.png']);
});

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
