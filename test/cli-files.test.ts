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
import { decodeSync, encodeSync } from '../src/codec/codec.js';
import { readWeights } from '../src/format/weights.js';
import { inputByteLimit } from '../src/io/files.js';
import { msSsim, psnr } from '../src/eval/metrics.js';
import { decodeImage, encodePng } from '../src/io/image-io.js';
import { fixCrc, streamBytes, withBitFlipped } from './helpers/bitstream-fuzz.js';
import { DEFAULT_LEVEL } from '../src/codec/codec.js';
import { loadTestWeights, repoPath } from './helpers/fixtures.js';
import { syntheticImage } from './helpers/synthetic-images.js';
import { skipWithout } from './helpers/system-tools.js';

const CLI = repoPath('dist/cli.js');
const TINY = ['--weights', repoPath('weights/test-tiny.bin')];
/** the tiny model has levels 0 and 1 only: an explicit level keeps these tests off the default-level rule */
const ENCODE_TINY = ['--level', '1', ...TINY];
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
    expectExit(0, dir, 'encode', 'in.png', '-o', 'out.aara', '--level', String(level), ...TINY);
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
    ['encode', 'in.png', '-o', 'out.aara', '-q', '101'],
    ['encode', 'in.png', '-o', 'out.aara', '-q', '-1'],
    ['encode', 'in.png', '-o', 'out.aara', '--level', '2.5'],
    ['encode', 'in.png', '-o', 'out.aara', '--level', '99', ...TINY],
    ['encode', 'in.png', '-o', 'out.aara', '--level', '1', '-q', '50', ...TINY],
    ['encode', 'in.png', 'in.png', '-o', 'out.aara'],
    ['encode', 'in.png'],
    ['encode', 'in.png', '-o', 'out.aara', '--max-pixels', '-5'],
    ['encode', 'in.png', '-o', 'out.aara', '--quiet=yes'],
    ['decode'],
  ];
  for (const args of usage) expectExit(2, dir, ...args);
  assert.equal(listing(dir), ['in.png']);
});

test('--help prints the usage (after a command too), --version and -V the version, -v is verbose (as in cwebp)', () => {
  assert.match(expectExit(0, root, '--help').stdout, /Usage:/);
  assert.match(expectExit(0, root, 'encode', '-h').stdout, /Usage:/);
  assert.match(expectExit(0, root, '--help').stdout, /aara compare[\s\S]*--psnr/);
  const { version } = JSON.parse(readFileSync(repoPath('package.json'), 'utf8'));
  assert.is(expectExit(0, root, '--version').stdout.trim(), version);
  assert.is(expectExit(0, root, '-V').stdout.trim(), version);
  const { dir } = encodedWorkspace();
  const tinyId = tiny.idHex.slice(0, 16);
  const encoded = expectExit(0, dir, 'encode', 'in.png', '-o', 'v.aara', '-v', '--threads', '1', ...ENCODE_TINY);
  assert.match(encoded.stderr, new RegExp(`in\\.png: weights .*test-tiny\\.bin \\(${tinyId}, factorized kind, 2 levels\\), 1 thread\\(s\\), level 1, 2 tiles`));
  assert.match(encoded.stdout, /in\.png → v\.aara/, 'the report as without -v');
  assert.match(expectExit(0, dir, 'decode', 'v.aara', '-o', 'v.png', '--verbose', '--threads', '1', ...TINY).stderr,
    /v\.aara: weights .*1 thread\(s\), level 1, 1 tiles \(or bands\)/);
  // on 2 workers the decode goes a layer at a time: every layer's bands and φ's (the count: parallel.test.ts)
  assert.match(expectExit(0, dir, 'decode', 'v.aara', '-o', 'v2.png', '--verbose', '--threads', '2', ...TINY).stderr,
    /v\.aara: weights .*2 thread\(s\), level 1, \d+ tiles \(or bands\)/);
  assert.not.match(expectExit(0, dir, 'decode', 'v.aara', '-o', 'w.png', ...TINY).stderr, /weights/);
});

test('info prints size and level; --json prints parseable JSON for every command', () => {
  const { dir, file } = encodedWorkspace();
  const { stdout } = expectExit(0, dir, 'info', 'in.aara');
  assert.match(stdout, /24×16, level 1/);

  const info = JSON.parse(expectExit(0, dir, 'info', 'in.aara', '--json').stdout);
  assert.equal([info.width, info.height, info.level, info.bytes], [24, 16, 1, file.length]);
  const encoded = JSON.parse(expectExit(0, dir, 'encode', 'in.png', '-o', 'again.aara', '--level', '0', '--json', ...TINY).stdout);
  assert.equal([encoded.width, encoded.height, encoded.level], [24, 16, 0]);
  assert.ok(encoded.bpp > 0);
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

/** Runs the CLI with `input` on stdin (nothing: an empty stdin); stdout comes back as bytes. */
function piped(cwd: string, input: Uint8Array | undefined, ...args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const run = spawnSync(process.execPath, [CLI, ...args], { cwd, input: input ?? new Uint8Array(0), timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr.toString('utf8') };
}

function expectPiped(status: number, cwd: string, input: Uint8Array | undefined, ...args: string[]): { stdout: Buffer; stderr: string } {
  const run = piped(cwd, input, ...args);
  assert.is(run.status, status, `aara ${args.join(' ')} → ${run.status}\n${run.stderr}`);
  return run;
}

test('- reads standard input and writes standard output; with -o - the report goes to stderr and stdout holds only the file', () => {
  const { dir, file } = encodedWorkspace(); // in.aara: in.png at level 1
  const png = bytesOf(join(dir, 'in.png'));
  // encode - -o out.aara < in.png
  const fromStdin = expectPiped(0, dir, png, 'encode', '-', '-o', 'out.aara', ...ENCODE_TINY);
  assert.ok(Buffer.from(bytesOf(join(dir, 'out.aara'))).equals(file));
  assert.match(fromStdin.stdout.toString(), /^- → out\.aara: 24×16, level 1/);
  // encode in.png -o - > out
  const toStdout = expectPiped(0, dir, undefined, 'encode', 'in.png', '-o', '-', ...ENCODE_TINY);
  assert.ok(toStdout.stdout.equals(file), 'stdout is the .aara file and nothing else');
  assert.match(toStdout.stderr, /in\.png → -: 24×16, level 1/);
  const json = expectPiped(0, dir, undefined, 'encode', 'in.png', '-o', '-', '--json', ...ENCODE_TINY);
  assert.ok(json.stdout.equals(file));
  assert.is(JSON.parse(json.stderr).bytes, file.length);
  // decode - -o - : a PNG of the library's pixels
  const decoded = expectPiped(0, dir, file, 'decode', '-', '-o', '-', ...TINY);
  assert.ok(decoded.stdout.equals(Buffer.from(encodePng(decodeSync(file, tiny)))));
  assert.match(decoded.stderr, /- → -: 24×16/);
  // the whole pipe: encode - -o - | decode - -o -
  const encoded = expectPiped(0, dir, png, 'encode', '-', '-o', '-', '--quiet', ...ENCODE_TINY).stdout;
  const back = expectPiped(0, dir, encoded, 'decode', '-', '-o', '-', '--quiet', ...TINY);
  assert.ok(back.stdout.equals(decoded.stdout));
  assert.is(back.stderr, '');
  // info and compare read stdin too
  assert.match(expectPiped(0, dir, file, 'info', '-').stdout.toString(), /^-: aara v\d+, 24×16, level 1/);
  assert.equal(listing(dir), ['in.aara', 'in.png', 'out.aara'], 'no file named -');
});

test('- as input needs -o and is read once; a bad image on stdin is exit 3', () => {
  const dir = workspace();
  const png = bytesOf(join(dir, 'in.png'));
  mkdirSync(join(dir, 'out'));
  assert.match(expectPiped(2, dir, png, 'encode', '-', '-d', 'out', ...ENCODE_TINY).stderr, /needs -o/);
  assert.match(expectPiped(2, dir, png, 'compare', '-', '-').stderr, /once/);
  assert.match(expectPiped(3, dir, new TextEncoder().encode('not an image'), 'encode', '-', '-o', 'x.aara', ...ENCODE_TINY).stderr, /error (BAD_IMAGE|UNSUPPORTED_IMAGE)/);
  assert.match(expectPiped(3, dir, undefined, 'decode', '-', '-o', 'x.png', ...TINY).stderr, /error TRUNCATED/);
  assert.equal(listing(dir), ['in.png', 'out']);
  assert.equal(listing(join(dir, 'out')), []);
});

test('an input above the byte limit of --max-pixels is TOO_LARGE (exit 3): a file unread, an endless stdin cut off', () => {
  const dir = workspace();
  const limit = inputByteLimit(1000);
  // a PNG within the pixel limit, padded past the byte limit
  writeFileSync(join(dir, 'padded.png'), Buffer.concat([readFileSync(join(dir, 'in.png')), Buffer.alloc(limit)]));
  assert.match(expectExit(3, dir, 'encode', 'padded.png', '-o', 'x.aara', '--max-pixels', '1000', ...ENCODE_TINY).stderr, /TOO_LARGE/);
  // /dev/zero never ends: only the limit stops the read
  const run = spawnSync('bash', ['-c', 'cat /dev/zero | "$0" "$@"', process.execPath, CLI, 'encode', '-', '-o', 'x.aara', '--max-pixels', '1000', ...ENCODE_TINY],
    { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  assert.is(run.status, 3, `${run.status} ${run.signal} ${run.stderr}`);
  assert.match(run.stderr, /TOO_LARGE: .*standard input exceeds \d+ bytes/);
  assert.equal(listing(dir), ['in.png', 'padded.png']);
});

test('-d creates its folder; a batch goes on past bad files, names each with its code, and exits with the first failure', () => {
  const dir = workspace();
  writeFileSync(join(dir, 'second.png'), readFileSync(join(dir, 'in.png')));
  writeFileSync(join(dir, 'garbage.png'), 'not an image');
  const first = expectExit(3, dir, 'encode', 'garbage.png', 'in.png', 'missing.png', 'second.png', '-d', 'new/sub', ...ENCODE_TINY);
  assert.match(first.stderr, /error (BAD_IMAGE|UNSUPPORTED_IMAGE): garbage\.png/);
  assert.match(first.stderr, /error FILE_NOT_FOUND: missing\.png/);
  assert.match(first.stderr, /2 of 4 files failed/);
  assert.match(first.stdout, /in\.png → new\/sub\/in\.aara/);
  assert.match(first.stdout, /second\.png → new\/sub\/second\.aara/);
  assert.is(first.stdout.split('\n').length, 3, `a line per file that succeeded, nothing else on stdout: ${JSON.stringify(first.stdout)}`);
  assert.equal(listing(join(dir, 'new', 'sub')), ['in.aara', 'second.aara']);
  // the first failure decides the status: a missing file first is 5
  const again = expectExit(5, dir, 'encode', 'missing.png', 'in.png', 'garbage.png', '-d', 'new/sub', '-f', '--json', ...ENCODE_TINY);
  const reports = again.stdout.trim().split('\n').map((line) => JSON.parse(line));
  assert.equal(reports.map((r) => [r.input, r.error ?? 'ok']), [['missing.png', 'FILE_NOT_FOUND'], ['in.png', 'ok'], ['garbage.png', reports[2].error]]);
  assert.equal([reports[0].exit, reports[2].exit], [5, 3]);
  // decode: a corrupt file among good ones
  writeFileSync(join(dir, 'bad.aara'), 'AARA and then nonsense');
  assert.match(expectExit(3, dir, 'decode', 'new/sub/in.aara', 'bad.aara', 'new/sub/second.aara', '-d', 'png', ...TINY).stderr, /bad\.aara/);
  assert.equal(listing(join(dir, 'png')), ['in.png', 'second.png']);
});

test('-d: a command refused by the output checks leaves no folder behind; a file in the way is exit 5', () => {
  const dir = workspace();
  writeFileSync(join(dir, 'in.jpg'), readFileSync(join(dir, 'in.png')));
  assert.match(expectExit(5, dir, 'encode', 'in.png', 'in.jpg', '-d', 'fresh/deep', ...ENCODE_TINY).stderr, /OUTPUT_COLLISION/);
  writeFileSync(join(dir, 'file'), 'a file, not a folder');
  expectExit(5, dir, 'encode', 'in.png', '-d', 'file', ...ENCODE_TINY);
  assert.equal(listing(dir), ['file', 'in.jpg', 'in.png']);
});

test('PSNR only on request: --psnr reports the PSNR of the file as written, without it there is none', () => {
  const dir = workspace();
  const plain = expectExit(0, dir, 'encode', 'in.png', '-o', 'a.aara', ...ENCODE_TINY).stdout;
  assert.not.match(plain, /PSNR/);
  assert.not.ok('psnr' in JSON.parse(expectExit(0, dir, 'encode', 'in.png', '-o', 'b.aara', '--json', ...ENCODE_TINY).stdout));
  const file = bytesOf(join(dir, 'a.aara'));
  const expected = psnr(SOURCE.data, decodeSync(file, tiny).data);
  assert.match(expectExit(0, dir, 'encode', 'in.png', '-o', 'c.aara', '--psnr', ...ENCODE_TINY).stdout, new RegExp(`PSNR ${expected.toFixed(2)} dB`));
  const report = JSON.parse(expectExit(0, dir, 'encode', 'in.png', '-o', 'd.aara', '--psnr', '--json', ...ENCODE_TINY).stdout);
  assert.is(report.psnr, expected);
  expectExit(2, dir, 'decode', 'a.aara', '-o', 'x.png', '--psnr', ...TINY);
});

test('--target-bpp, --target-size and --target-psnr pick the level a search over every level would, with the bytes of -q', () => {
  const weightsPath = repoPath('weights/aara-factorized.bin');
  const w = readWeights(new Uint8Array(readFileSync(weightsPath)));
  const img = syntheticImage(48, 32, 5);
  const dir = workspace();
  writeFileSync(join(dir, 'x.png'), encodePng(img));
  // every level's file and PSNR, by the library: the expected answers
  const files = Array.from({ length: w.config.levels }, (_, level) => encodeSync(img, w, { level }));
  const psnrs = files.map((f) => psnr(img.data, decodeSync(f, w).data));
  for (let level = 1; level < files.length; level++) {
    assert.ok(files[level].length > files[level - 1].length && psnrs[level] > psnrs[level - 1], 'rate and PSNR grow with the level here');
  }
  const dB = Number(((psnrs[4] + psnrs[5]) / 2).toFixed(4));
  const cases: Array<[string[], number]> = [
    [['--target-size', String(files[3].length)], 3], // exactly level 3's size: level 3
    [['--target-bpp', String((8 * (files[6].length + 1)) / (48 * 32))], 6],
    [['--target-psnr', String(dB)], psnrs.findIndex((p) => p >= dB)],
  ];
  for (const [target, level] of cases) {
    for (const threads of ['1', '2']) {
      const out = JSON.parse(expectExit(0, dir, 'encode', 'x.png', '-o', 'x.aara', '-f', '--json', '--threads', threads, '--weights', weightsPath, ...target).stdout);
      assert.is(out.level, level, `${target.join(' ')}, --threads ${threads}`);
      assert.is(out.targetMet, true);
      assert.ok(Buffer.from(files[level]).equals(bytesOf(join(dir, 'x.aara'))), 'the bytes of -q at that level');
    }
  }
  // a target no level meets: the nearest level is written, and the report says so
  const small = expectExit(0, dir, 'encode', 'x.png', '-o', 'y.aara', '--target-size', '10', '--weights', weightsPath);
  assert.match(small.stdout, /level 0, .*\(target 10 bytes not met: level 0 gives \d+ bytes\)/);
  const high = JSON.parse(expectExit(0, dir, 'encode', 'x.png', '-o', 'z.aara', '--target-psnr', '99', '--json', '--weights', weightsPath).stdout);
  assert.equal([high.level, high.targetMet], [w.config.levels - 1, false]);
  assert.ok(Math.abs(high.psnr - psnrs[w.config.levels - 1]) < 1e-9);
  // one target at a time, and not with -q
  expectExit(2, dir, 'encode', 'x.png', '-o', 'w.aara', '--target-size', '100', '--target-psnr', '30', ...TINY);
  expectExit(2, dir, 'encode', 'x.png', '-o', 'w.aara', '--target-size', '100', '--level', '1', ...TINY);
  expectExit(2, dir, 'encode', 'x.png', '-o', 'w.aara', '--target-size', '100', '-q', '50', ...TINY);
  expectExit(2, dir, 'encode', 'x.png', '-o', 'w.aara', '--target-size', '1.5', ...TINY);
});

test('compare prints PSNR and MS-SSIM of two images (--json: one object); other sizes are exit 3', () => {
  const { dir, file } = encodedWorkspace();
  expectExit(0, dir, 'decode', 'in.aara', '-o', 'back.png', ...TINY);
  const back = decodeSync(file, tiny);
  const expected = { psnr: psnr(SOURCE.data, back.data), msSsim: msSsim(SOURCE, back) };
  const text = expectExit(0, dir, 'compare', 'in.png', 'back.png').stdout;
  assert.match(text, new RegExp(`24×16, PSNR ${expected.psnr.toFixed(2)} dB, MS-SSIM ${expected.msSsim.toFixed(6)}`));
  const json = JSON.parse(expectExit(0, dir, 'compare', 'in.png', 'back.png', '--json').stdout);
  assert.equal([json.width, json.height, json.psnr, json.msSsim], [24, 16, expected.psnr, expected.msSsim]);
  const same = JSON.parse(expectExit(0, dir, 'compare', 'in.png', 'in.png', '--json').stdout);
  assert.equal([same.psnr, same.msSsim, same.msSsimDb], [null, 1, null]);
  assert.match(expectExit(0, dir, 'compare', 'in.png', 'in.png').stdout, /PSNR inf dB/);
  assert.match(expectPiped(0, dir, bytesOf(join(dir, 'back.png')), 'compare', 'in.png', '-').stdout.toString(), /PSNR/);
  writeFileSync(join(dir, 'small.png'), encodePng(syntheticImage(16, 16, 9)));
  assert.match(expectExit(3, dir, 'compare', 'in.png', 'small.png').stderr, /BAD_DIMENSIONS/);
  expectExit(2, dir, 'compare', 'in.png');
  expectExit(5, dir, 'compare', 'in.png', 'nowhere.png');
});

test('an exception that is not an AaraError (a bug) is exit 1, "internal error" with its stack, and no output is left', () => {
  const { dir } = encodedWorkspace();
  // a module loaded before the CLI breaks √, which only IGDN in the decoder calls: the decode throws a TypeError
  writeFileSync(join(dir, 'break-sqrt.mjs'), 'Math.sqrt = () => { throw new TypeError("sqrt broke"); };\n');
  const run = spawnSync(process.execPath, ['--import', './break-sqrt.mjs', CLI, 'decode', 'in.aara', '-o', 'out.png', ...TINY], { cwd: dir, encoding: 'utf8' });
  assert.is(run.status, 1, run.stdout + run.stderr);
  assert.match(run.stderr, /aara: internal error: TypeError: sqrt broke\n\s+at /);
  assert.equal(listing(dir), ['break-sqrt.mjs', 'in.aara', 'in.png'], 'no output and no temp file');
});

test('an option its command does not take is exit 2, before any file is read', () => {
  const { dir } = encodedWorkspace();
  const misplaced: string[][] = [
    ['info', 'in.aara', '-q', '3'],
    ['info', 'in.aara', '--force'],
    ['info', 'in.aara', '-o', 'x'],
    ['decode', 'in.aara', '-o', 'x.png', '--target-bpp', '0.5', ...TINY],
    ['decode', 'in.aara', '-o', 'x.png', '--quick', ...TINY],
    ['encode', 'in.png', '-o', 'x.aara', '--levels', '0,1', ...TINY],
    ['compare', 'in.png', 'in.png', '--threads', '2'],
    ['eval', dir, '--max-pixels', '100'],
  ];
  for (const args of misplaced) assert.match(expectExit(2, dir, ...args).stderr, /does not apply to/);
  assert.equal(listing(dir), ['in.aara', 'in.png']);
});

const PROGRESS_TEST = 'on a terminal the progress bar of a batch never shares a line with a report or an error';
if (spawnSync('script', ['--version']).status === 0) {
  test(PROGRESS_TEST, () => {
    const dir = workspace();
    writeFileSync(join(dir, 'second.png'), readFileSync(join(dir, 'in.png')));
    writeFileSync(join(dir, 'garbage.png'), 'not an image');
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const command = [process.execPath, CLI, 'encode', 'in.png', 'garbage.png', 'second.png', '-d', 'out', ...ENCODE_TINY].map(quote).join(' ');
    // script(1) runs the command on a pseudo-terminal: stdout and stderr are a TTY, as for a person typing it
    const run = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    assert.is(run.status, 3, `${run.status}\n${run.stdout}${run.stderr}`);
    // what each terminal line shows: the text after its last carriage return, erase-line codes removed
    const shown = run.stdout.split('\n').map((line) => line.replace(/\r$/, '')).map((line) => line.slice(line.lastIndexOf('\r') + 1).replace(/\x1b\[K/g, ''));
    assert.ok(shown.some((line) => /^\[#+\] 3\/3 second\.png/.test(line)), shown.join('\n'));
    assert.ok(shown.some((line) => /^second\.png → out\/second\.aara/.test(line)), shown.join('\n'));
    assert.ok(shown.some((line) => /^aara: error \w+: garbage\.png/.test(line)), shown.join('\n'));
    for (const line of shown) assert.not.ok(/\] \d\/3/.test(line) && /→|error/.test(line), `bar and message on one line: ${JSON.stringify(line)}`);
  });
  test('on a terminal one large image shows its tiles done / total, encode and decode; nothing with --quiet', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'big.png'), encodePng(syntheticImage(1100, 600, 4))); // 3 × 2 encode tiles of 512, and decode tiles of 512 on one thread
    const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;
    const onTerminal = (...args: string[]) => {
      const run = spawnSync('script', ['-qec', [process.execPath, CLI, ...args].map(quote).join(' '), '/dev/null'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
      assert.is(run.status, 0, run.stdout);
      return run.stdout;
    };
    const encoded = onTerminal('encode', 'big.png', '-o', 'big.aara', '--threads', '1', ...ENCODE_TINY);
    // f_m's 6 tiles, then f_r's (the residual branch works at 1/8 of the image: the same 6 tiles of the image)
    assert.match(encoded, /\] 1\/12 tiles of big\.png/);
    assert.match(encoded, /\[#+\] 12\/12 tiles of big\.png/);
    const decoded = onTerminal('decode', 'big.aara', '-o', 'big.png.png', '--threads', '1', ...TINY);
    assert.match(decoded, /\] 1\/6 tiles of big\.aara/);
    assert.match(decoded, /\[#+\] 6\/6 tiles of big\.aara/);
    assert.not.match(onTerminal('decode', 'big.aara', '-o', 'q.png', '--quiet', ...TINY), /tiles of/);
  });
  test('-o - onto a terminal is refused (exit 2): binary data is not printed on a screen', () => {
    const dir = workspace();
    const command = [process.execPath, CLI, 'encode', 'in.png', '-o', '-', ...ENCODE_TINY].map((arg) => `'${arg}'`).join(' ');
    const run = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    assert.is(run.status, 2, `${run.status}\n${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /standard output is a terminal/);
    assert.equal(listing(dir), ['in.png']);
  });
} else {
  skipWithout(PROGRESS_TEST, 'script (util-linux) is not installed');
}

test.after(() => rmSync(root, { recursive: true, force: true }));

test.run();
