/**
 * ICC profiles and EXIF (issue 18): read from PNG (iCCP, eXIf) and JPEG (APP2 ICC_PROFILE segments, APP1 EXIF) as
 * an independent writer (PIL, train/make_metadata_fixture.py) stored them, kept in the .aara file's metadata
 * section, and written back into the decoded PNG byte for byte. A JPEG turned upright keeps EXIF that says so.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileMetadata } from '../src/format/container.js';
import { decodeImage, encodePng } from '../src/io/image-io.js';
import { tiffOrientation } from '../src/io/orientation.js';
import { decode, decodeSync, encode, encodeLevels, encodeSync, close } from '../src/index.js';
import { failsWith } from './helpers/assert-code.js';
import { repoPath } from './helpers/fixtures.js';
import { fixPngCrcs } from './helpers/image-fuzz.js';
import { syntheticImage } from './helpers/images.js';

const DIR = repoPath('test/fixtures/metadata');
const expected: Record<string, { icc: string; exif: string; storedExif?: string; width: number; height: number }> =
  JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8'));
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const TINY = repoPath('weights/test-tiny.bin');
const png = new Uint8Array(readFileSync(join(DIR, 'icc-exif.png')));
const jpeg = new Uint8Array(readFileSync(join(DIR, 'icc-exif-turn6.jpg')));

test('PNG iCCP and eXIf, and JPEG ICC_PROFILE segments and EXIF, as PIL wrote them', () => {
  for (const [name, bytes] of [['icc-exif.png', png], ['icc-exif-turn6.jpg', jpeg]] as const) {
    const img = decodeImage(bytes);
    const want = expected[name];
    assert.equal([img.width, img.height], [want.width, want.height], `${name}: shown size`);
    assert.equal(img.metadata?.icc, b64(want.icc), `${name}: ICC profile byte for byte`);
    assert.equal(img.metadata?.exif, b64(want.exif), `${name}: EXIF`);
  }
  // the JPEG was turned upright: its EXIF now says orientation 1, everything else as stored
  const stored = b64(expected['icc-exif-turn6.jpg'].storedExif!);
  assert.is(tiffOrientation(stored), 6);
  assert.is(tiffOrientation(decodeImage(jpeg).metadata!.exif!), 1);
  assert.is(decodeImage(jpeg).metadata!.exif!.length, stored.length);
});

test('encodePng writes iCCP and eXIf that read back byte for byte; none when there is nothing', () => {
  const img = syntheticImage(9, 7, 3);
  const metadata = { icc: b64(expected['icc-exif.png'].icc), exif: b64(expected['icc-exif.png'].exif) };
  const again = decodeImage(encodePng(img, metadata));
  assert.equal(again.data, img.data);
  assert.equal(again.metadata, metadata);
  assert.is(decodeImage(encodePng(img)).metadata, undefined);
  assert.equal(encodePng(img, {}), encodePng(img));
  // each alone
  assert.equal(decodeImage(encodePng(img, { icc: metadata.icc })).metadata, { icc: metadata.icc });
  assert.equal(decodeImage(encodePng(img, { exif: metadata.exif })).metadata, { exif: metadata.exif });
});

test('a damaged iCCP or incomplete ICC segments leave the profile out, never the image', () => {
  const at = Buffer.from(png).indexOf('iCCP');
  const damaged = png.slice();
  damaged[at + 4 + 14] ^= 0xff; // inside the zlib stream, after "ICC Profile\0\0"
  const img = decodeImage(fixPngCrcs(damaged));
  assert.equal(img.data, decodeImage(png).data);
  assert.is(img.metadata?.icc, undefined);
  assert.ok(img.metadata?.exif, 'EXIF still read');
  // the second of two ICC_PROFILE segments renumbered 1: two first pieces, no second
  const second = Buffer.from(jpeg).indexOf('ICC_PROFILE', Buffer.from(jpeg).indexOf('ICC_PROFILE') + 1);
  const broken = jpeg.slice();
  broken[second + 12] = 1;
  assert.is(decodeImage(broken).metadata?.icc, undefined);
});

test("the API keeps the input's ICC profile and EXIF by default, stores what it is given, drops them with 'none'", async () => {
  const want = { icc: b64(expected['icc-exif.png'].icc), exif: b64(expected['icc-exif.png'].exif) };
  const file = encodeSync(png, { weights: TINY, level: 1 });
  assert.equal(decodeSync(file, { weights: TINY }).metadata, want);
  const none = encodeSync(png, { weights: TINY, level: 1, metadata: 'none' });
  assert.is(decodeSync(none, { weights: TINY }).metadata, undefined);
  assert.equal(decodeSync(none, { weights: TINY }).data, decodeSync(file, { weights: TINY }).data, 'the same pixels');
  assert.is(file.length - none.length, 1 + 5 + want.icc.length + 5 + want.exif.length);
  const raw = syntheticImage(20, 10, 1);
  assert.equal(decodeSync(encodeSync(raw, { weights: TINY, level: 1, metadata: { icc: new Uint8Array([1, 2, 3]) } }), { weights: TINY }).metadata, { icc: new Uint8Array([1, 2, 3]) });
  assert.equal(await encode(png, { weights: TINY, level: 1 }), file, 'async: the same bytes');
  assert.equal((await decode(file, { weights: TINY })).metadata, want);
  const [level] = await encodeLevels(png, [1], { weights: TINY });
  assert.equal(level.bytes, file);
  for (const bad of ['all', 5, { icc: [1, 2] }, { xmp: new Uint8Array(1) }, null]) {
    failsWith('BAD_ARGUMENT', () => encodeSync(png, { weights: TINY, level: 1, metadata: bad as never }), /metadata must be/);
  }
  await close();
});

test('CLI: an ICC profile survives encode → decode byte for byte; --metadata none drops it; info says what is kept', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aara-metadata-'));
  const run = (...args: string[]) => spawnSync(process.execPath, [repoPath('dist/cli.js'), ...args, '--weights', TINY], { cwd: dir, encoding: 'utf8' });
  writeFileSync(join(dir, 'in.jpg'), jpeg);
  assert.is(run('encode', 'in.jpg', '-o', 'a.aara', '--level', '1').status, 0);
  assert.is(run('decode', 'a.aara', '-o', 'a.png').status, 0);
  const back = decodeImage(new Uint8Array(readFileSync(join(dir, 'a.png'))));
  assert.equal(back.metadata?.icc, b64(expected['icc-exif-turn6.jpg'].icc), 'the 70,000-byte profile');
  assert.equal(back.metadata?.exif, b64(expected['icc-exif-turn6.jpg'].exif), 'EXIF, upright');
  assert.equal([back.width, back.height], [24, 16]);
  const info = spawnSync(process.execPath, [repoPath('dist/cli.js'), 'info', 'a.aara', '--json'], { cwd: dir, encoding: 'utf8' });
  assert.is(JSON.parse(info.stdout).iccBytes, 70000);
  assert.is(run('decode', 'a.aara', '-o', 'b.png', '--metadata', 'none').status, 0);
  assert.is(decodeImage(new Uint8Array(readFileSync(join(dir, 'b.png')))).metadata, undefined);
  assert.is(run('encode', 'in.jpg', '-o', 'c.aara', '--level', '1', '--metadata', 'none').status, 0);
  assert.is(fileMetadata(new Uint8Array(readFileSync(join(dir, 'c.aara')))), undefined);
  const bad = run('encode', 'in.jpg', '-o', 'd.aara', '--metadata', 'some');
  assert.is(bad.status, 2);
  assert.match(bad.stderr, /--metadata takes all or none/);
});

test.run();
