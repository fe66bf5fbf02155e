import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkOutputs, readInput, writeOutputAtomic } from '../src/io/files.js';
import { failsWith } from './helpers/assert-code.js';

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

test('checkOutputs: two outputs onto one file are OUTPUT_COLLISION, even with force; each output is checked', () => {
  const { dir, input } = workspace();
  mkdirSync(join(dir, 'out'));
  symlinkSync(join(dir, 'out'), join(dir, 'alias'));
  const same = [
    [join(dir, 'out', 'a.aara'), join(dir, 'out', 'a.aara')],
    [join(dir, 'out', 'a.aara'), join(dir, 'out', '..', 'out', 'a.aara')],
    [join(dir, 'out', 'a.aara'), join(dir, 'alias', 'a.aara')],
  ];
  for (const outputs of same) {
    for (const force of [false, true]) failsWith('OUTPUT_COLLISION', () => checkOutputs(outputs, { force, inputs: [input] }));
  }
  writeFileSync(join(dir, 'out', 'b.aara'), 'old');
  linkSync(join(dir, 'out', 'b.aara'), join(dir, 'out', 'hard.aara'));
  failsWith('OUTPUT_COLLISION', () => checkOutputs([join(dir, 'out', 'b.aara'), join(dir, 'out', 'hard.aara')], { force: true, inputs: [input] }));
  checkOutputs([join(dir, 'out', 'a.aara'), join(dir, 'out', 'c.aara')], { force: false, inputs: [input] });
  failsWith('OUTPUT_EXISTS', () => checkOutputs([join(dir, 'out', 'a.aara'), join(dir, 'out', 'b.aara')], { force: false, inputs: [input] }));
  failsWith('OUTPUT_IS_INPUT', () => checkOutputs([join(dir, 'out', 'a.aara'), input], { force: true, inputs: [input] }));
  failsWith('IO_ERROR', () => checkOutputs([join(dir, 'missing', 'a.aara')], { force: true, inputs: [input] }), /does not exist/);
  assert.equal(readdirSync(join(dir, 'out')).sort(), ['b.aara', 'hard.aara']); // checking writes nothing
});

test("a write removes this tool's stale temp files for that output, and nothing else", () => {
  const { dir, input } = workspace();
  const hour = 3600;
  const now = Date.now() / 1000;
  const stale = [
    '.out.aara.99999999.0123456789ab.tmp', // its process is gone, and it is two minutes old
    `.out.aara.${process.pid}.0123456789ab.tmp`, // two hours old: stale whatever its pid
  ];
  const kept = [
    '.out.aara.99999998.0123456789ab.tmp', // process gone, but written just now (another host may be writing it)
    `.out.aara.${process.pid}.abcdefabcdef.tmp`, // a live process, recent
    '.other.aara.99999999.0123456789ab.tmp', // another output's
    '.out.aara.99999999.0123456789ab.tmp.bak', // not this tool's name
    '.out.aara.notapid.0123456789ab.tmp',
    'out.aara.99999999.0123456789ab.tmp',
  ];
  for (const name of [...stale, ...kept]) writeFileSync(join(dir, name), 'partial');
  utimesSync(join(dir, stale[0]), now - 120, now - 120);
  utimesSync(join(dir, stale[1]), now - 2 * hour, now - 2 * hour);
  for (const name of kept.slice(2)) utimesSync(join(dir, name), now - 2 * hour, now - 2 * hour);
  // a symbolic link and a folder with a stale name are not files to remove
  symlinkSync(input, join(dir, '.out.aara.99999997.0123456789ab.tmp'));
  mkdirSync(join(dir, '.out.aara.99999996.0123456789ab.tmp'));
  const notFiles = ['.out.aara.99999997.0123456789ab.tmp', '.out.aara.99999996.0123456789ab.tmp'];
  writeOutputAtomic(join(dir, 'out.aara'), bytes('new'), { force: false, inputs: [input] });
  assert.equal(readdirSync(dir).sort(), ['in.png', 'out.aara', ...kept, ...notFiles].sort());
  assert.is(text(input), 'input');
});

test('SIGTERM or SIGINT during a CLI write: the write completes, then the process ends by the signal, no temp file left', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    const { dir, input } = workspace();
    const out = join(dir, 'out.aara');
    // The signal arrives while the temp file is open (the first read of the data's length): Node's default would
    // end the process there and then, leaving `.out.aara.<pid>.<hex>.tmp` behind.
    const script = `
      import { writeOutput } from ${JSON.stringify(pathToFileURL(join(process.cwd(), 'dist/src/io/files.js')).href)};
      let sent = false;
      class Signalling extends Uint8Array {
        get length() {
          if (!sent) { sent = true; process.kill(process.pid, ${JSON.stringify(signal)}); }
          return super.length;
        }
      }
      await writeOutput(${JSON.stringify(out)}, new Signalling(1 << 20).fill(7), { force: false, inputs: [${JSON.stringify(input)}] });
      console.log('not reached: the signal ends the process');
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.is(run.signal, signal, `${signal}: status ${run.status} ${run.stdout}${run.stderr}`);
    assert.not.match(run.stdout, /not reached/);
    assert.equal(readdirSync(dir).sort(), ['in.png', 'out.aara'], signal);
    assert.is(readFileSync(out).length, 1 << 20);
  }
});

test.after(() => rmSync(root, { recursive: true, force: true }));
test.run();
