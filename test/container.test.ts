import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fileMetadata, readContainer, readHeader, resolveLimits, withMetadata, writeContainer, DEFAULT_LIMITS, FLAG_GRAYSCALE, type ImageMetadata } from '../src/format/container.js';
import { failsWith } from './helpers/assert-code.js';
import { fixCrc } from './helpers/bitstream-fuzz.js';
import { crc32 } from '../src/format/crc32.js';
import { AaraError, type ErrorCode } from '../src/core/errors.js';
import { mulberry32, randomBytes } from './helpers/prng.js';

const hasCode = (code: ErrorCode) => (e: unknown) => e instanceof AaraError && e.code === code;

const rng = mulberry32(11);
const fields = {
  level: 3,
  flags: FLAG_GRAYSCALE,
  width: 70,
  height: 45,
  weightsId: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]),
  streams: [randomBytes(rng, 9), new Uint8Array(0), randomBytes(rng, 4)],
};
const file = writeContainer(fields);

/** `file` with some bytes changed; the CRC is left stale on purpose (header checks come first). */
function patched(at: number, ...bytes: number[]): Uint8Array {
  const copy = Uint8Array.from(file);
  copy.set(bytes, at);
  return copy;
}

function u32(value: number): number[] {
  return [value & 0xff, (value >>> 8) & 0xff, (value >>> 16) & 0xff, value >>> 24];
}

test('crc32: the standard check value, empty input and sub-ranges', () => {
  const digits = new TextEncoder().encode('123456789');
  assert.is(crc32(digits), 0xcbf43926);
  assert.is(crc32(new Uint8Array(0)), 0);
  const padded = Uint8Array.from([0xff, ...digits, 0xee]);
  assert.is(crc32(padded, 1, 10), 0xcbf43926);
});

test('round trip: fields back, streams as views into the file', () => {
  const c = readContainer(file);
  assert.equal(
    { ...c, streams: c.streams.map((s) => [...s]), weightsId: [...c.weightsId] },
    { ...fields, version: 1, streams: fields.streams.map((s) => [...s]), weightsId: [...fields.weightsId] },
  );
  for (const s of c.streams) assert.is(s.buffer, file.buffer);
});

test('the byte layout of the table', () => {
  assert.is(file.length, 24 + 4 * 3 + 13 + 4);
  assert.equal([...file.subarray(0, 8)], [0x41, 0x41, 0x52, 0x41, 1, 3, FLAG_GRAYSCALE, 3]);
  assert.equal([...file.subarray(8, 16)], [...u32(70), ...u32(45)]);
  assert.equal([...file.subarray(16, 24)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal([...file.subarray(24, 36)], [...u32(9), ...u32(0), ...u32(4)]);
  assert.equal([...file.subarray(36, 49)], [...fields.streams[0], ...fields.streams[2]]);
  assert.equal([...file.subarray(49)], u32(crc32(file, 0, 49)));
});

test('version 2: the same table, the version byte kept through a round trip (what its streams hold is the codec\'s)', () => {
  const two = writeContainer({ ...fields, version: 2 });
  assert.equal([...two.subarray(0, 4)], [...file.subarray(0, 4)]);
  assert.is(two[4], 2);
  assert.equal([...two.subarray(5, two.length - 4)], [...file.subarray(5, file.length - 4)]);
  const c = readContainer(two);
  assert.is(c.version, 2);
  assert.is(writeContainer(c)[4], 2, 'a container read and written again keeps its version');
  failsWith('INTERNAL', () => writeContainer({ ...fields, version: 3 }), /cannot write version 3/);
});

test('readHeader needs only the fixed 24 bytes', () => {
  const header = readHeader(file.subarray(0, 24));
  assert.equal({ ...header, weightsId: [...header.weightsId] }, {
    version: 1,
    level: 3,
    flags: 1,
    width: 70,
    height: 45,
    weightsId: [1, 2, 3, 4, 5, 6, 7, 8],
    streamCount: 3,
  });
});

test('every error code from a crafted file', () => {
  const cases: [Uint8Array, ErrorCode][] = [
    [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'BAD_MAGIC'], // a PNG
    [new TextEncoder().encode('AARB'), 'BAD_MAGIC'],
    [new TextEncoder().encode('AA'), 'TRUNCATED'],
    [patched(4, 3), 'UNSUPPORTED_VERSION'],
    [patched(4, 0), 'UNSUPPORTED_VERSION'],
    [patched(4, 3).subarray(0, 5), 'UNSUPPORTED_VERSION'], // the version is known before the header ends
    [file.subarray(0, 23), 'TRUNCATED'],
    [patched(6, 0b1000), 'CORRUPT'], // unknown flag (bit 3; bit 2 says a metadata section follows: test/metadata.test.ts)
    [patched(7, 0), 'CORRUPT'], // no stream
    [patched(7, 65), 'CORRUPT'], // over MAX_STREAMS
    [patched(8, ...u32(0)), 'BAD_DIMENSIONS'],
    [patched(12, ...u32(0)), 'BAD_DIMENSIONS'],
    [patched(8, ...u32(65536)), 'TOO_LARGE'],
    [patched(12, ...u32(65536)), 'TOO_LARGE'],
    [patched(8, ...u32(65535), ...u32(65535)), 'TOO_LARGE'], // each side fits, the pixel count does not
    [patched(7, 5), 'TRUNCATED'], // two more stream lengths than bytes
    [patched(24, ...u32(10)), 'TRUNCATED'], // streams declared longer than the file
    [patched(24, ...u32(8)), 'CORRUPT'], // a byte nobody owns
    [Uint8Array.from([...file.subarray(0, -4), 0, ...file.subarray(-4)]), 'CORRUPT'],
    [patched(5, 4), 'CHECKSUM_MISMATCH'], // a valid-looking level
    [patched(40, file[40] ^ 0x10), 'CHECKSUM_MISMATCH'], // inside a stream
    [patched(file.length - 1, file[file.length - 1] ^ 1), 'CHECKSUM_MISMATCH'], // inside the CRC
  ];
  for (const [bytes, code] of cases) assert.throws(() => readContainer(bytes), hasCode(code), code);
});

test('huge declared dimensions are refused from the header alone', () => {
  const header = patched(8, ...u32(0xffffffff), ...u32(0xffffffff)).subarray(0, 24);
  assert.throws(() => readHeader(header), hasCode('TOO_LARGE'));
  assert.throws(() => readContainer(header), hasCode('TOO_LARGE')); // before any size or CRC check
});

test('limits are the caller’s to tighten', () => {
  assert.is(DEFAULT_LIMITS.maxPixels, 24 * 1024 * 1024);
  assert.ok(6000 * 4000 <= DEFAULT_LIMITS.maxPixels);
  assert.throws(() => readContainer(file, { ...DEFAULT_LIMITS, maxWidth: 69 }), hasCode('TOO_LARGE'));
  assert.throws(() => readContainer(file, { ...DEFAULT_LIMITS, maxHeight: 44 }), hasCode('TOO_LARGE'));
  assert.throws(() => readContainer(file, { ...DEFAULT_LIMITS, maxPixels: 70 * 45 - 1 }), hasCode('TOO_LARGE'));
  readContainer(file, { maxWidth: 70, maxHeight: 45, maxPixels: 70 * 45 });
});

test('truncation at every length is TRUNCATED', () => {
  for (let length = 0; length < file.length; length++) {
    assert.throws(() => readContainer(file.subarray(0, length)), hasCode('TRUNCATED'), `length ${length}`);
  }
});

test('every single-bit flip is an AaraError', () => {
  for (let bit = 0; bit < file.length * 8; bit++) {
    const flipped = patched(bit >> 3, file[bit >> 3] ^ (1 << (bit & 7)));
    assert.throws(() => readContainer(flipped), (e: unknown) => e instanceof AaraError, `bit ${bit}`);
  }
});

test('the writer refuses what the format cannot hold', () => {
  const cases: [Partial<typeof fields>, ErrorCode][] = [
    [{ level: 256 }, 'BAD_LEVEL'],
    [{ level: -1 }, 'BAD_LEVEL'],
    [{ level: 1.3 }, 'BAD_LEVEL'], // not a sixteenth
    [{ level: 16.5 }, 'BAD_LEVEL'], // 264 sixteenths
    [{ width: 0 }, 'BAD_DIMENSIONS'],
    [{ height: 2 ** 32 }, 'BAD_DIMENSIONS'],
    [{ width: 1.5 }, 'BAD_DIMENSIONS'],
    [{ flags: 2 }, 'INTERNAL'],
    [{ weightsId: new Uint8Array(16) }, 'INTERNAL'],
    [{ streams: [] }, 'INTERNAL'],
    [{ streams: Array.from({ length: 65 }, () => new Uint8Array(0)) }, 'INTERNAL'],
  ];
  for (const [change, code] of cases) {
    assert.throws(() => writeContainer({ ...fields, ...change }), hasCode(code), JSON.stringify(change));
  }
  const widest = writeContainer({ ...fields, streams: Array.from({ length: 64 }, () => new Uint8Array(1)) });
  assert.is(readContainer(widest).streams.length, 64);
});

// the metadata section (issue 18; reading images' metadata: test/metadata.test.ts)
const icc = new Uint8Array([1, 2, 3, 4, 5]);
const exif = new Uint8Array([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0]);
const base = { level: 1, flags: 0, width: 3, height: 2, weightsId: new Uint8Array(8), streams: [new Uint8Array([7, 8]), new Uint8Array([9])] };

test('the container keeps metadata entries in their section and reads them back; no section, no flag', () => {
  for (const metadata of [{ icc }, { exif }, { icc, exif }] as ImageMetadata[]) {
    const file = writeContainer({ ...base, metadata });
    const c = readContainer(file);
    assert.equal(c.metadata, metadata);
    assert.equal(c.streams, base.streams);
    assert.is(file[6] & 4, 4, 'flag bit 2');
    assert.equal(fileMetadata(file), metadata);
  }
  const plain = writeContainer(base);
  assert.is(plain[6] & 4, 0);
  assert.is(readContainer(plain).metadata, undefined);
  assert.equal(writeContainer({ ...base, metadata: { icc: new Uint8Array(0) } }), plain, 'empty entries are not stored');
  assert.is(withMetadata(plain, undefined), plain, 'nothing to add: the same file');
  assert.equal(withMetadata(withMetadata(plain, { icc, exif }), undefined), plain, 'metadata dropped again');
  assert.equal(readContainer(withMetadata(writeContainer({ ...base, metadata: { icc } }), { exif })).metadata, { exif }, 'replaced');
});

test('a damaged metadata section is CORRUPT or TRUNCATED, with a valid CRC too', () => {
  const file = writeContainer({ ...base, metadata: { icc, exif } });
  const section = file.length - 4 - (1 + 5 + icc.length + 5 + exif.length);
  const edit = (change: (b: Uint8Array) => void) => {
    const b = file.slice();
    change(b);
    return fixCrc(b);
  };
  failsWith('CORRUPT', () => readContainer(edit((b) => (b[section] = 0))), /0 metadata entries/);
  failsWith('CORRUPT', () => readContainer(edit((b) => (b[section] = 3))), /3 metadata entries/);
  failsWith('CORRUPT', () => readContainer(edit((b) => (b[section + 1] = 2))), /metadata entry of kind 2 after kind 2/);
  failsWith('CORRUPT', () => readContainer(edit((b) => (b[section + 1] = 9))), /metadata entry of kind 9 after kind 0/);
  failsWith('CORRUPT', () => readContainer(edit((b) => b.fill(0, section + 2, section + 6))), /empty metadata entry/);
  failsWith('TRUNCATED', () => readContainer(edit((b) => (b[section + 2] = 200))), /metadata entry of 200 bytes/);
  failsWith('CORRUPT', () => readContainer(edit((b) => (b[section] = 1))), /unexpected bytes after the metadata/);
  // the flag without a section
  failsWith('TRUNCATED', () => readContainer(fixCrc(Object.assign(writeContainer(base).slice(), {}).map((v, i) => (i === 6 ? v | 4 : v)))), /metadata section is missing/);
});

test('each check of the writer, the header and the sizes: its boundary and its message', () => {
  const write = (change: Partial<typeof fields>) => () => writeContainer({ ...fields, ...change });
  failsWith('BAD_LEVEL', write({ level: 256 }), /^.*level 256$/);
  failsWith('BAD_LEVEL', write({ level: -1 }), /level -1$/);
  for (const level of [0, 255, 0.5, 255 / 16]) assert.is(readContainer(write({ level })()).level, level, `level ${level} round trip`);
  assert.is(write({ level: 0.5 })()[5], 8, 'level 0.5 is 8 sixteenths');
  failsWith('BAD_DIMENSIONS', write({ width: 0 }), /width 0$/);
  failsWith('BAD_DIMENSIONS', write({ height: 2 ** 32 }), /height 4294967296$/);
  assert.is(readHeader(write({ width: 1, height: 2 ** 32 - 1 })(), { maxWidth: 2 ** 32, maxHeight: 2 ** 32, maxPixels: 2 ** 40 }).height, 2 ** 32 - 1);
  failsWith('INTERNAL', write({ flags: 2 }), /cannot write unknown flags 2/);
  failsWith('INTERNAL', write({ flags: 0.5 }), /cannot write unknown flags 0.5/);
  assert.is(write({ flags: FLAG_GRAYSCALE })()[6], FLAG_GRAYSCALE);
  assert.is(write({ flags: 0 })()[6], 0);
  failsWith('INTERNAL', write({ weightsId: new Uint8Array(7) }), /weights ID of 7 bytes/);
  failsWith('INTERNAL', write({ streams: [] }), /cannot write 0 streams/);
  failsWith('INTERNAL', write({ streams: Array.from({ length: 65 }, () => new Uint8Array(0)) }), /cannot write 65 streams/);
  assert.is(readContainer(write({ streams: [new Uint8Array(0)] })()).streams.length, 1, 'one empty stream: the smallest file');
  // a length the u32 fields cannot hold, without allocating 4 GB (only .length is read before the check)
  const huge = { length: 2 ** 32 } as Uint8Array;
  failsWith('TOO_LARGE', write({ streams: [huge] }), /stream of 4294967296 bytes/);
  failsWith('TOO_LARGE', () => writeContainer({ ...base, metadata: { icc: huge } }), /metadata of 4294967296 bytes/);

  failsWith('TRUNCATED', () => readHeader(file.subarray(0, 3)), /3 bytes$/);
  failsWith('TRUNCATED', () => readHeader(file.subarray(0, 4)), /4 bytes$/);
  failsWith('TRUNCATED', () => readHeader(file.subarray(0, 23)), /23 bytes, the header needs 24/);
  failsWith('UNSUPPORTED_VERSION', () => readHeader(patched(4, 3)), /version 3, this reader knows 1 and 2/);
  failsWith('CORRUPT', () => readHeader(patched(6, 0x18)), /unknown flags 0x18/);
  failsWith('CORRUPT', () => readHeader(patched(5, 16, 2)), /level byte 16 in sixteenths is a whole level/);
  assert.is(readHeader(patched(5, 16, 0)).level, 16, 'without flag bit 1 the byte is the level');
  assert.is(readHeader(patched(5, 24, 2)).level, 1.5);
  failsWith('CORRUPT', () => readHeader(patched(7, 0)), /0 streams/);
  failsWith('CORRUPT', () => readHeader(patched(7, 65)), /65 streams/);
  assert.is(readHeader(patched(7, 1)).streamCount, 1);
  failsWith('BAD_DIMENSIONS', () => readHeader(patched(8, ...u32(0))), /0×45/);
  failsWith('TOO_LARGE', () => readHeader(file, { maxWidth: 69 }), /70×45/);
  failsWith('TRUNCATED', () => readContainer(file.subarray(0, 24 + 4 * 3 + 3)), /\d+ bytes, 3 streams/);
  failsWith('TRUNCATED', () => readContainer(fixCrc(Uint8Array.from([...file.subarray(0, -5), ...file.subarray(-4)]))), /the streams need 13 bytes, 12 are present/);
  failsWith('CORRUPT', () => readContainer(fixCrc(Uint8Array.from([...file.subarray(0, -4), 0, 0, ...file.subarray(-4)]))), /2 unexpected bytes after the streams/);
});

test('metadata: copies that do not follow the file, none without a section, replaced and dropped', () => {
  const file = writeContainer({ ...base, metadata: { icc, exif } });
  const copy = fileMetadata(file)!;
  file.fill(0);
  assert.equal(copy, { icc, exif }, 'the file changed after: the metadata did not');
  assert.is(fileMetadata(writeContainer(base)), undefined);
  const plain = writeContainer(base);
  assert.equal(readContainer(withMetadata(plain, { icc })).metadata, { icc });
  assert.equal(readContainer(withMetadata(plain, { exif })).metadata, { exif });
  assert.is(withMetadata(plain, {}), plain);
});

test('metadata: a section cut inside an entry header, or an entry longer than what is left', () => {
  const one = writeContainer({ ...base, metadata: { icc } });
  const crcAt = one.length - 4;
  // the count says 2, but only the first entry is there
  failsWith('TRUNCATED', () => readContainer(fixCrc(one.map((v, i) => (i === crcAt - 1 - icc.length - 5 ? 2 : v)))), /inside the metadata section/);
  // an entry header, then nothing: its length 5 is more than the 0 bytes left
  const headerOnly = fixCrc(Uint8Array.from([...one.subarray(0, crcAt - icc.length), 0, 0, 0, 0]));
  failsWith('TRUNCATED', () => readContainer(headerOnly), /a metadata entry of 5 bytes, 0 are present/);
  // one byte more than the entry
  failsWith('CORRUPT', () => readContainer(fixCrc(Uint8Array.from([...one.subarray(0, crcAt), 7, 0, 0, 0, 0]))), /1 unexpected bytes after the metadata/);
});

test('resolveLimits: the defaults, a caller\'s fields merged over them, each field checked', () => {
  assert.is(resolveLimits(), DEFAULT_LIMITS);
  assert.is(resolveLimits(DEFAULT_LIMITS), DEFAULT_LIMITS);
  assert.equal(resolveLimits({ maxWidth: 10 }), { ...DEFAULT_LIMITS, maxWidth: 10 });
  assert.equal(resolveLimits({ maxHeight: 1, maxPixels: 7 }), { ...DEFAULT_LIMITS, maxHeight: 1, maxPixels: 7 });
  assert.equal(resolveLimits({ maxWidth: undefined }), { ...DEFAULT_LIMITS });
  for (const bad of [5, 'x', null, [1]]) {
    failsWith('BAD_ARGUMENT', () => resolveLimits(bad as never), new RegExp(`limits must be an object, got ${String(bad)}`));
  }
  failsWith('BAD_ARGUMENT', () => resolveLimits({ maxDepth: 3, maxWidth: 5, maxColors: 1 } as never), /unknown limits maxDepth, maxColors \(known: maxWidth, maxHeight, maxPixels\)/);
  for (const bad of [0, -1, 1.5, '5', NaN, 2 ** 53]) {
    failsWith('BAD_ARGUMENT', () => resolveLimits({ maxPixels: bad as number }), new RegExp(`limits.maxPixels must be an integer ≥ 1, got ${String(bad)}`));
  }
});

test.run();
