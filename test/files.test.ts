import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { readInput, writeOutputAtomic } from '../src/files.js';
import { AaraError, type ErrorCode } from '../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'aara-files-'));
let caseNumber = 0;

/** A fresh directory holding in.png ("input"). */
function workspace(): { dir: string; input: string } {
  const dir = join(root, String(caseNumber++));
  mkdirSync(dir);
  const input = join(dir, 'in.png');
  writeFileSync(input, 'input');
  return { dir, input };
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (path: string) => readFileSync(path, 'utf8');

function failsWith(code: ErrorCode, run: () => unknown, message?: RegExp): void {
  try {
    run();
  } catch (err) {
    assert.instance(err, AaraError);
    assert.is((err as AaraError).code, code, (err as Error).message);
    if (message) assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

test('writes the file and leaves no temp file', () => {
  const { dir, input } = workspace();
  const out = join(dir, 'out.aara');
  writeOutputAtomic(out, bytes('encoded'), { force: false, inputs: [input] });
  assert.is(text(out), 'encoded');
  assert.equal(readdirSync(dir).sort(), ['in.png', 'out.aara']);
});

test('an existing output needs force, which replaces it', () => {
  const { dir, input } = workspace();
  const out = join(dir, 'out.aara');
  writeFileSync(out, 'old');
  failsWith('OUTPUT_EXISTS', () => writeOutputAtomic(out, bytes('new'), { force: false, inputs: [input] }));
  assert.is(text(out), 'old');
  writeOutputAtomic(out, bytes('new'), { force: true, inputs: [input] });
  assert.is(text(out), 'new');
  assert.equal(readdirSync(dir).sort(), ['in.png', 'out.aara']);
});

test('the output may not be an input, however it is spelled, even with force', () => {
  const { dir, input } = workspace();
  symlinkSync(input, join(dir, 'link.png'));
  symlinkSync(dir, join(dir, 'here'));
  linkSync(input, join(dir, 'hard.png'));
  const spellings = [
    input,
    `${dir}/./in.png`,
    `${dir}/missing/../in.png`,
    relative(process.cwd(), input),
    join(dir, 'link.png'),
    join(dir, 'here', 'in.png'),
    join(dir, 'hard.png'),
  ];
  for (const out of spellings) {
    for (const force of [false, true]) {
      failsWith('OUTPUT_IS_INPUT', () => writeOutputAtomic(out, bytes('x'), { force, inputs: ['/nonexistent/other.png', input] }));
    }
  }
  // and the other way round: the input named through the link
  failsWith('OUTPUT_IS_INPUT', () => writeOutputAtomic(input, bytes('x'), { force: true, inputs: [join(dir, 'here', 'link.png')] }));
  assert.is(text(input), 'input');
});

test('a symbolic link as output is written through', () => {
  const { dir, input } = workspace();
  const target = join(dir, 'target.aara');
  writeFileSync(target, 'old');
  const link = join(dir, 'link.aara');
  symlinkSync(target, link);
  failsWith('OUTPUT_EXISTS', () => writeOutputAtomic(link, bytes('new'), { force: false, inputs: [input] }));
  writeOutputAtomic(link, bytes('new'), { force: true, inputs: [input] });
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.is(text(target), 'new');
});

test('a dangling symbolic link counts as an existing output', () => {
  const { dir, input } = workspace();
  const link = join(dir, 'dangling.aara');
  symlinkSync(join(dir, 'nowhere'), link);
  failsWith('OUTPUT_EXISTS', () => writeOutputAtomic(link, bytes('x'), { force: false, inputs: [input] }));
  writeOutputAtomic(link, bytes('x'), { force: true, inputs: [input] });
  assert.is(text(link), 'x');
});

test('a failed write leaves neither a temp file nor a changed output', () => {
  const { dir, input } = workspace();
  const out = join(dir, 'out.aara');
  writeFileSync(out, 'old');
  // Not a byte array: writeSync throws after the temp file was created, standing in for a full disk.
  const unwritable = { length: 4 } as unknown as Uint8Array;
  failsWith('IO_ERROR', () => writeOutputAtomic(out, unwritable, { force: true, inputs: [input] }), /cannot write/);
  failsWith('IO_ERROR', () => writeOutputAtomic(join(dir, 'new.aara'), unwritable, { force: false, inputs: [input] }));
  assert.is(text(out), 'old');
  assert.equal(readdirSync(dir).sort(), ['in.png', 'out.aara']);
});

test('a missing output directory or a directory as output is an IO_ERROR', () => {
  const { dir, input } = workspace();
  failsWith('IO_ERROR', () => writeOutputAtomic(join(dir, 'missing', 'out.aara'), bytes('x'), { force: true, inputs: [input] }), /does not exist/);
  mkdirSync(join(dir, 'sub'));
  failsWith('IO_ERROR', () => writeOutputAtomic(join(dir, 'sub'), bytes('x'), { force: true, inputs: [input] }), /is a directory/);
  assert.ok(!existsSync(join(dir, 'missing')));
});

test('readInput: content, missing file, directory, FIFO', () => {
  const { dir, input } = workspace();
  assert.equal(readInput(input), bytes('input'));
  writeFileSync(join(dir, 'empty'), '');
  assert.is(readInput(join(dir, 'empty')).length, 0);
  failsWith('FILE_NOT_FOUND', () => readInput(join(dir, 'missing.png')), /missing\.png/);
  failsWith('FILE_NOT_FOUND', () => readInput(join(input, 'below-a-file.png')));
  failsWith('IO_ERROR', () => readInput(dir), /is a directory/);
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  failsWith('IO_ERROR', () => readInput(fifo), /not a regular file/); // and returns at once, without a writer
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
