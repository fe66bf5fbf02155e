/**
 * The weight-file reader (src/format/weights.ts, with the table checks of src/entropy/cdf-tables.ts): every way it
 * refuses a file, one test per check, each a BAD_WEIGHTS naming what is wrong. Copies of the small test weights
 * are changed in memory; a change to the payload is re-signed (its SHA-256 written back as the weights ID) so that
 * the reader gets past the checksum to the check under test. (Its one other refusal, a big-endian host, cannot
 * run here.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isWeights, readWeights, type Weights } from '../src/format/weights.js';
import { failsWith } from './helpers/assert-code.js';
import { repoPath } from './helpers/fixtures.js';

const HEADER_BYTES = 64;
const ID_OFFSET = 48;
const factorized = new Uint8Array(readFileSync(repoPath('weights/test-tiny.bin'))); // version 1
const hyper = new Uint8Array(readFileSync(repoPath('weights/test-tiny-hyper.bin'))); // version 2, hyper kind
const fittedFile = new Uint8Array(readFileSync(repoPath('weights/test-tiny-ychannel-fitted.bin'))); // version 3

/** Writes the payload's SHA-256 (first 16 bytes) into the header as its weights ID. */
function sign(bytes: Uint8Array): Uint8Array {
  bytes.set(createHash('sha256').update(bytes.subarray(HEADER_BYTES)).digest().subarray(0, 16), ID_OFFSET);
  return bytes;
}

/** A copy of `file` with a header field (u32 at `offset`) set. */
function withHeader(file: Uint8Array, offset: number, value: number): Uint8Array {
  const bytes = file.slice();
  new DataView(bytes.buffer).setUint32(offset, value, true);
  return bytes;
}

/** A re-signed copy of `file` whose model's tensors (views of the copy) `change` has written to. */
function withTensors(file: Uint8Array, change: (w: Weights, bytes: Uint8Array) => void): Uint8Array {
  const bytes = file.slice();
  change(readWeights(bytes), bytes);
  return sign(bytes);
}

/** A re-signed copy of `file` whose payload is `payload` bytes long (cut or zero-extended), the header saying so. */
function withPayloadLength(file: Uint8Array, payload: number): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + payload);
  bytes.set(file.subarray(0, Math.min(file.length, bytes.length)));
  new DataView(bytes.buffer).setUint32(44, payload, true);
  return sign(bytes);
}

/** The i32 just before a tensor (a stored size), as a view of the file. */
const sizeBefore = (tensor: Float32Array) => new Int32Array(tensor.buffer, tensor.byteOffset - 4, 1);

test('the test weights read, and re-signing an unchanged copy changes nothing', () => {
  for (const file of [factorized, hyper]) {
    const w = readWeights(file);
    assert.is(readWeights(sign(file.slice())).idHex, w.idHex);
  }
});

test('a file shorter than the header', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(factorized.subarray(0, HEADER_BYTES - 1)), /file too short \(63 bytes\)/);
});

test('bad magic', () => {
  const bytes = factorized.slice();
  bytes[0] ^= 1;
  failsWith('BAD_WEIGHTS', () => readWeights(bytes), /bad magic/);
});

test('an unsupported version', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(factorized, 8, 0)), /unsupported weight file version 0/);
});

test('an unknown model kind', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(hyper, 12, 7)), /unknown model kind 7/);
  // a hyper file labelled checkerboard lacks the spatial context's tensors: the walk ends inside them
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(hyper, 12, 3)), /file ends inside tensor entropy_w.cdf/);
  // a checkerboard file labelled spacechannel lacks the channel contexts' (and a spacechannel file labelled
  // checkerboard has bytes left over, read as tables that do not validate or as unexpected bytes)
  const checkerboard = new Uint8Array(readFileSync(repoPath('weights/test-tiny-checkerboard.bin')));
  const spacechannel = new Uint8Array(readFileSync(repoPath('weights/test-tiny-spacechannel.bin')));
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(checkerboard, 12, 4)), /table length|file ends inside tensor/);
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(spacechannel, 12, 3)));
  // a spacechannel file labelled ycontext lacks s_y, e_y; a ycontext file labelled spacechannel reads s_y's halves as
  // tables, or has bytes left over
  const ycontext = new Uint8Array(readFileSync(repoPath('weights/test-tiny-ycontext.bin')));
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(spacechannel, 12, 5)), /table length|file ends inside tensor|out of range/);
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(ycontext, 12, 4)));
  // a ycontext file labelled ychannel reads its float32 context weights as halves and lacks ŷ's k_a, k_o; a ychannel
  // file labelled ycontext reads halves as float32
  const ychannel = new Uint8Array(readFileSync(repoPath('weights/test-tiny-ychannel.bin')));
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(ycontext, 12, 6)));
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(ychannel, 12, 5)));
});

test('a width or level count out of range', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(factorized, 12, 0)), /config N = 0 out of range/);
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(factorized, 28, 65)), /config levels = 65 out of range/);
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(hyper, 24, 1025)), /config Nr = 1025 out of range/);
});

test('a CDF precision other than the coder\'s 16 bits', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(factorized, 32, 15)), /CDF precision 15/);
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(hyper, 40, 12)), /CDF precision 12/);
});

test('a payload of another length than the header says', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(factorized.subarray(0, factorized.length - 4)), /header says/);
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(hyper, 44, hyper.length)), /header says/);
});

test('a payload that does not match its weights ID (wrong SHA-256)', () => {
  const damaged = factorized.slice();
  damaged[damaged.length - 1] ^= 0x10;
  failsWith('BAD_WEIGHTS', () => readWeights(damaged), /does not match its weights ID/);
  const otherId = hyper.slice();
  otherId[ID_OFFSET] ^= 1;
  failsWith('BAD_WEIGHTS', () => readWeights(otherId), /does not match its weights ID/);
});

test('a payload that ends inside a tensor (truncated)', () => {
  for (const file of [factorized, hyper]) {
    failsWith('BAD_WEIGHTS', () => readWeights(withPayloadLength(file, file.length - HEADER_BYTES - 4)), /file ends inside tensor/);
  }
  failsWith('BAD_WEIGHTS', () => readWeights(withPayloadLength(factorized, 100)), /file ends inside tensor main_encoder\.0\.weight/);
});

test('bytes after the last tensor', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(withPayloadLength(hyper, hyper.length - HEADER_BYTES + 8)), /: 8 unexpected bytes after the last tensor/);
});

test('a stored table size out of range (hyper kind: entropy_w.stride)', () => {
  for (const stride of [0, 1 << 20]) {
    const bytes = withTensors(hyper, (w) => (sizeBefore(w.hyper!.entropyW.median)[0] = stride));
    failsWith('BAD_WEIGHTS', () => readWeights(bytes), new RegExp(`entropy_w\\.stride = ${stride} out of range`));
  }
});

test('a median that is not finite', () => {
  const bytes = withTensors(factorized, (w) => (w.entropyZ!.median[3] = Infinity));
  failsWith('BAD_WEIGHTS', () => readWeights(bytes), /entropy_z\.median is not finite/);
});

test('the Gaussian conditional\'s table shape out of range', () => {
  const shape = (w: Weights) => new Int32Array(w.hyper!.gaussian.scales.buffer, w.hyper!.gaussian.scales.byteOffset - 8, 2);
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(hyper, (w) => (shape(w)[0] = 256))), /gaussian\.shape = 256 × \d+ out of range/);
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(hyper, (w) => (shape(w)[1] = 2))), /gaussian\.shape = \d+ × 2 out of range/);
});

test('Gaussian scales that are not positive, finite and increasing', () => {
  for (const change of [(s: Float32Array) => (s[1] = s[0]), (s: Float32Array) => (s[0] = 0), (s: Float32Array) => (s[s.length - 1] = NaN)]) {
    const bytes = withTensors(hyper, (w) => change(w.hyper!.gaussian.scales));
    failsWith('BAD_WEIGHTS', () => readWeights(bytes), /gaussian\.scale must be positive, finite and increasing/);
  }
});

test('a CDF table whose length does not fit its row', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(factorized, (w) => (w.entropyY!.tables[1].length[2] = 0))), /entropy_y level 1 channel 2: table length 0/);
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(hyper, (w) => (w.hyper!.gaussian.sets[0]!.length[0] = w.hyper!.gaussian.sets[0]!.stride - 1))),
    /gaussian channel 0: table length/);
});

test('a CDF table offset beyond ±2^24', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(hyper, (w) => (w.hyper!.entropyW.tables[0].offset[1] = -(2 ** 24) - 1))),
    /entropy_w level 0 channel 1: offset -16777217/);
});

test('a CDF row that does not run from 0 to 2^16', () => {
  const row = (w: Weights) => w.entropyZ!.tables[0];
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(factorized, (w) => (row(w).cdf[0] = 1))), /entropy_z level 0 channel 0: CDF ends/);
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(factorized, (w) => (row(w).cdf[row(w).length[0] + 1] = 65535))), /entropy_z level 0 channel 0: CDF ends/);
});

test('a CDF row that is not strictly increasing', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(hyper, (w) => {
    const t = w.hyper!.gaussian.sets[0]!;
    t.cdf[t.stride + 2] = t.cdf[t.stride + 1];
  })), /gaussian channel 1: CDF not increasing/);
});

test('version 3: fitted rows and their map out of range, or on a kind without Gaussian tables', () => {
  const fitted = (w: Weights) => w.hyper!.gaussian.fitted!;
  const rows = readWeights(fittedFile).hyper!.gaussian.fitted!.length.length;
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(fittedFile, (w) => (fitted(w).map[5] = rows))), new RegExp(`gaussian\\.map names row ${rows} of ${rows}`));
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(fittedFile, (w) => (fitted(w).map[0] = -1))), /gaussian\.map names row -1/);
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(fittedFile, (w) => (new Int32Array(fitted(w).offset.buffer, fitted(w).offset.byteOffset - 4, 1)[0] = 0))),
    /gaussian\.rows = 0 out of range/);
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(fittedFile, (w) => (fitted(w).length[3] = fitted(w).stride - 1))), /gaussian\.cdf row 3: table length/);
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(fittedFile, (w) => {
    const f = fitted(w);
    f.cdf[f.rowStart[0] + 2] = f.cdf[f.rowStart[0] + 1];
  })), /gaussian row 0 channel 0: CDF not increasing/);
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(fittedFile, 12, 1)), /the factorized kind has no Gaussian tables to fit/);
});

test('a gain that is not positive and finite', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(factorized, (w) => (w.gainY[0] = 0))), /gains must be positive and finite/);
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(factorized, (w) => (w.gainZ[5] = -1))), /gains must be positive and finite/);
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(hyper, (w) => (w.hyper!.gainW[0] = NaN))), /gains must be positive and finite/);
});

/** The tensors of a FORMAT table (written by train/export.py, not by the reader): offset and name, in file order. */
function formatTable(path: string): Array<{ offset: number; name: string }> {
  return readFileSync(repoPath(path), 'utf8').split('\n')
    .map((line) => /^\| (\d+) \| ([\w.]+) \| (f32|i32) \|/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ offset: Number(m[1]), name: m[2] }));
}

const TRANSPOSED = /^(main_decoder|res_decoder)\.\d+\.weight$|^hyper_synthesis\.[02]\.weight$/;
const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('a file cut at any tensor is BAD_WEIGHTS naming that tensor, as the exporter\'s FORMAT table names it', () => {
  for (const [table, weightFile] of [['weights/FORMAT.md', 'weights/aara.bin'], ['weights/FORMAT-factorized.md', 'weights/aara-factorized.bin']]) {
    const file = new Uint8Array(readFileSync(repoPath(weightFile))); // one copy, its header rewritten for each cut
    const tensors = formatTable(table);
    assert.ok(tensors.length > 50, `${table}: ${tensors.length} tensors`);
    for (const { offset, name } of tensors) {
      const cut = file.subarray(0, offset);
      new DataView(file.buffer, file.byteOffset).setUint32(44, offset - HEADER_BYTES, true);
      const suffix = TRANSPOSED.test(name) ? ' \\(transposed\\)' : '';
      // 'verified': the cut file's payload no longer matches its ID, and the walk is what is tested here
      failsWith('BAD_WEIGHTS', () => readWeights(cut, 'verified'), new RegExp(`file ends inside tensor ${escapeRegExp(name)}${suffix}$`));
    }
  }
});

test('isWeights: a model readWeights returned, and nothing else', () => {
  const w = readWeights(hyper);
  assert.ok(isWeights(w));
  for (const other of [null, undefined, 5, 'w', {}, { config: w.config }, { config: w.config, id: [1, 2] }, { id: w.id }, hyper]) {
    assert.not.ok(isWeights(other), String(other));
  }
});

test('the reader\'s remaining checks at their boundaries, with their messages', () => {
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(hyper, 12, 7)), /unknown model kind 7 \(this engine reads factorized, hyper, checkerboard, spacechannel, ycontext, ychannel\)/);
  // exactly a header: not "too short", the payload check refuses it
  failsWith('BAD_WEIGHTS', () => readWeights(hyper.slice(0, HEADER_BYTES)), /payload is 0 bytes, header says \d+/);
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(hyper, 44, 5)), new RegExp(`payload is ${hyper.length - HEADER_BYTES} bytes, header says 5`));
  // widths up to 1024 and levels up to 64 pass the range check (and the walk then finds the file too short)
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(hyper, 24, 1024)), /file ends inside tensor/);
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(hyper, 32, 64)), /file ends inside tensor/);
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(hyper, 32, 65)), /config levels = 65 out of range/);
  failsWith('BAD_WEIGHTS', () => readWeights(withHeader(hyper, 16, 1)), /entropy_w.stride = \d+ out of range/); // N = 1 passes the range check
  assert.is(readWeights(factorized).config.Nh, 0, 'the factorized kind has no Nh');
  assert.is(readWeights(hyper).config.Nh, 8);
  // 'verified' trusts the ID it is given (the pool's workers): no digest, so a wrong ID reads
  const wrongId = hyper.slice();
  wrongId[ID_OFFSET] ^= 1;
  failsWith('BAD_WEIGHTS', () => readWeights(wrongId), /does not match its weights ID/);
  assert.is(readWeights(wrongId, 'verified').config.kind, 'hyper');
  // a view at an odd offset of a larger buffer is copied to an aligned one and reads the same
  const shifted = new Uint8Array(hyper.length + 1);
  shifted.set(hyper, 1);
  assert.is(readWeights(shifted.subarray(1)).idHex, readWeights(hyper).idHex);
  // a stored table stride of 1 passes the size check; the tables then refuse it
  failsWith('BAD_WEIGHTS', () => readWeights(withTensors(hyper, (w) => (sizeBefore(w.hyper!.entropyW.median)[0] = 1))), /entropy_w level 0|table length|ends inside/);
});

test('zero-copy: an aligned view is read in place, each level\'s tables view their own rows', () => {
  const padded = new Uint8Array(factorized.length + 8);
  padded.set(factorized, 8);
  const view = padded.subarray(8); // aligned, at a non-zero offset of its buffer
  const w = readWeights(view);
  assert.is(w.mainEncoder.convs[0].weight.buffer, padded.buffer, 'no copy');
  const { M } = w.config;
  const [q0, q1] = w.entropyY!.tables;
  for (const key of ['offset', 'length'] as const) {
    assert.is(q1[key].length, M);
    assert.is(q1[key].byteOffset, q0[key].byteOffset + 4 * M, `${key}: level 1 follows level 0`);
  }
  assert.is(q1.cdf.byteOffset, q0.cdf.byteOffset + 4 * M * q0.stride);
});

test('the Gaussian table shape: its bounds are the reader\'s, and values inside them are left to the tables\' checks', () => {
  const shapeAt = (w: Weights) => w.hyper!.gaussian.scales.byteOffset - 8;
  const withShape = (count: number, stride: number) => {
    const bytes = hyper.slice();
    const view = new DataView(bytes.buffer);
    const at = shapeAt(readWeights(hyper));
    view.setInt32(at, count, true);
    view.setInt32(at + 4, stride, true);
    return sign(bytes);
  };
  for (const [count, stride] of [[0, 100], [256, 100], [64, 2], [64, 65537]]) {
    failsWith('BAD_WEIGHTS', () => readWeights(withShape(count, stride)), new RegExp(`gaussian.shape = ${count} × ${stride} out of range`));
  }
  for (const [count, stride] of [[1, 100], [255, 100], [64, 3], [64, 65536]]) {
    const message = (() => {
      try {
        readWeights(withShape(count, stride));
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    assert.ok(message !== '' && !message.includes('gaussian.shape'), `${count} × ${stride}: ${message}`);
  }
});

test.run();
