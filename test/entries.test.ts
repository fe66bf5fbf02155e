/**
 * The two public entries as a caller meets them: the browser entry (aara/browser, also usable in Node) gives the
 * golden pixels as RGBA and the golden bytes from RGBA; both entries take bytes as a Uint8Array, a Buffer or an
 * ArrayBuffer, return plain (not shared) memory, and refuse an option they do not take with BAD_ARGUMENT.
 * (AaraWorkers needs Web Workers: Chromium and Firefox run it in test/browser.test.ts.) The package's own entry,
 * `import 'aara'`, is the bundle of the Node entry (dist/bundle/, made by esbuild from tsc's files): it gives the bytes
 * of tsc's files, on the calling thread and on its own workers.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as browser from '../src/browser/index.js';
import * as aara from '../src/index.js';
import { encodePng } from '../src/io/image-io.js';
import { failsWith } from './helpers/assert-code.js';
import { repoPath } from './helpers/fixtures.js';
import { GOLDEN_SETS, readGoldenManifest } from './golden/sources.js';
import { syntheticImage } from './helpers/synthetic-images.js';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const arrayBufferOf = (bytes: Uint8Array): ArrayBuffer => Uint8Array.from(bytes).buffer;
const tinyBytes = readFileSync(repoPath('weights/test-tiny.bin'));

function rgba(img: { width: number; height: number; data: Uint8Array }): Uint8ClampedArray {
  const out = new Uint8ClampedArray(img.width * img.height * 4).fill(255);
  for (let p = 0; p < img.width * img.height; p++) out.set(img.data.subarray(p * 3, p * 3 + 3), p * 4);
  return out;
}

test('aara/browser decodes every golden file to its pixels, RGBA with alpha 255', async () => {
  for (const set of GOLDEN_SETS) {
    const weights = await browser.loadWeights(arrayBufferOf(readFileSync(repoPath(set.weights))));
    for (const entry of readGoldenManifest(set).files) {
      const img = browser.decode(arrayBufferOf(readFileSync(repoPath(`${set.dir}/${entry.file}`))), weights);
      assert.instance(img.data, Uint8ClampedArray);
      assert.is(img.data.length, entry.width * entry.height * 4);
      const rgb = new Uint8Array(entry.width * entry.height * 3);
      for (let p = 0; p < entry.width * entry.height; p++) {
        assert.is(img.data[p * 4 + 3], 255);
        rgb.set(img.data.subarray(p * 4, p * 4 + 3), p * 3);
      }
      assert.is(sha256(rgb), entry.sha256, `${set.dir}/${entry.file}`);
    }
  }
});

test('aara/browser encodes RGBA and RGB pixels to the bytes of the Node entry', () => {
  const weights = browser.readWeights(tinyBytes);
  const img = syntheticImage(37, 29, 3);
  const expected = aara.encodeSync(img, { weights: tinyBytes, level: 1 });
  assert.equal(browser.encode({ ...img, data: rgba(img) }, weights, { level: 1 }), expected);
  assert.equal(browser.encode(img, weights, { level: 1 }), expected);
});

test('aara/browser refuses foreign options, bad weights and bad bytes with typed errors', () => {
  const weights = browser.readWeights(tinyBytes);
  const file = aara.encodeSync(syntheticImage(8, 8, 2), { weights: tinyBytes, level: 0 });
  failsWith('BAD_ARGUMENT', () => browser.decode(file, weights, { quality: 80 } as never), /decode takes no option "quality"/);
  failsWith('BAD_ARGUMENT', () => browser.encode(syntheticImage(8, 8, 2), weights, { level: 1, threads: 2 } as never), /"threads"/);
  failsWith('BAD_ARGUMENT', () => browser.decode(file, {} as never));
  failsWith('BAD_ARGUMENT', () => browser.decode('file.aara' as never, weights));
  failsWith('BAD_LEVEL', () => browser.encode(syntheticImage(8, 8, 2), weights, { level: 1.5 }));
  failsWith('BAD_WEIGHTS', () => browser.readWeights(new ArrayBuffer(10)));
  failsWith('BAD_ARGUMENT', () => new browser.AaraWorkers(tinyBytes, { threads: 2 } as never));
});

test('aara/browser loadWeights: a missing URL is FILE_NOT_FOUND, an unreachable one IO_ERROR', async () => {
  const fetched: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (async (url: string | URL) => {
    fetched.push(String(url));
    if (String(url).endsWith('missing.bin')) return new Response(null, { status: 404 });
    if (String(url).endsWith('ok.bin')) return new Response(Uint8Array.from(tinyBytes));
    throw new TypeError('network down');
  }) as typeof fetch;
  try {
    assert.is((await browser.loadWeights('https://example.test/ok.bin')).idHex, browser.readWeights(tinyBytes).idHex);
    for (const [url, code] of [['https://example.test/missing.bin', 'FILE_NOT_FOUND'], ['https://example.test/x.bin', 'IO_ERROR']] as const) {
      try {
        await browser.loadWeights(new URL(url));
        assert.unreachable(url);
      } catch (err) {
        assert.is((err as browser.AaraError).code, code, url);
      }
    }
    assert.equal(fetched.length, 3);
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('Node entry: ArrayBuffer and Buffer in, the same bytes and pixels out', async () => {
  const img = syntheticImage(37, 29, 3);
  const file = aara.encodeSync(img, { weights: tinyBytes, level: 1 });
  assert.equal(aara.encodeSync(img, { weights: arrayBufferOf(tinyBytes), level: 1 }), file);
  assert.equal(aara.decodeSync(arrayBufferOf(file), { weights: tinyBytes }).data, aara.decodeSync(file, { weights: tinyBytes }).data);
  assert.equal(aara.decodeSync(Buffer.from(file), { weights: tinyBytes }).data, aara.decodeSync(file, { weights: tinyBytes }).data);
  assert.is(aara.readWeights(arrayBufferOf(tinyBytes)).idHex, aara.readWeights(tinyBytes).idHex);
  const png = aara.encodeSync(arrayBufferOf(readFileSync(repoPath('test/fixtures/progressive.jpg'))), { weights: tinyBytes, level: 0 });
  assert.ok(png.length > 0);
  const decoded = await aara.decode(arrayBufferOf(file), { weights: tinyBytes, threads: 1 });
  assert.not.instance(decoded.data.buffer, SharedArrayBuffer, 'async decode hands back plain memory');
  assert.equal(decoded.data, aara.decodeSync(file, { weights: tinyBytes }).data);
  await aara.close();
});

test('Node entry: an option a call does not take is BAD_ARGUMENT, naming it', async () => {
  const img = syntheticImage(8, 8, 2);
  const file = aara.encodeSync(img, { weights: tinyBytes, level: 0 });
  failsWith('BAD_ARGUMENT', () => aara.encodeSync(img, { effort: 4 } as never), /encodeSync takes no option "effort"/);
  failsWith('BAD_ARGUMENT', () => aara.encodeSync(img, { weights: tinyBytes, threads: 2 } as never), /"threads"/);
  failsWith('BAD_ARGUMENT', () => aara.decodeSync(file, { weights: tinyBytes, level: 1 } as never), /decodeSync takes no option "level"/);
  for (const run of [() => aara.encode(img, { weights: tinyBytes, qualty: 1 } as never), () => aara.decode(file, { weights: tinyBytes, level: 0 } as never),
    () => aara.encodeLevels(img, [0], { weights: tinyBytes, level: 0 } as never)]) {
    try {
      await run();
      assert.unreachable('accepted');
    } catch (err) {
      assert.is((err as aara.AaraError).code, 'BAD_ARGUMENT');
    }
  }
  await aara.close();
});

test('`import \'aara\'` is the bundle, with the bytes and pixels of tsc\'s files, sync and on its workers', async () => {
  const name = 'aara'; // a variable: the type checker would resolve the name to the declarations, not the bundle
  assert.is(import.meta.resolve(name), pathToFileURL(repoPath('dist/bundle/index.js')).href);
  assert.ok(existsSync(repoPath('dist/bundle/worker.js')), 'the pool starts its workers from dist/bundle/worker.js');
  const bundle = await import(name) as typeof aara;
  assert.is.not(bundle.decodeSync, aara.decodeSync, 'the bundle is its own copy of the code');
  for (const set of GOLDEN_SETS) {
    for (const entry of readGoldenManifest(set).files) {
      const img = bundle.decodeSync(readFileSync(repoPath(`${set.dir}/${entry.file}`)), { weights: repoPath(set.weights) });
      assert.is(sha256(img.data), entry.sha256, `${set.dir}/${entry.file}`);
    }
  }
  // larger than one encode tile (512²) and one decode tile (256²): both calls run on the bundle's workers
  const img = syntheticImage(600, 480, 5);
  const file = await bundle.encode(img, { weights: tinyBytes, level: 1, threads: 2 });
  assert.equal(file, aara.encodeSync(img, { weights: tinyBytes, level: 1 }));
  assert.equal((await bundle.decode(file, { weights: tinyBytes })).data, aara.decodeSync(file, { weights: tinyBytes }).data);
  assert.is(bundle.loadWeights().idHex, aara.loadWeights().idHex, 'the packaged weights, found from the bundle\'s folder');
  try {
    bundle.decodeSync(new Uint8Array(16), { weights: tinyBytes });
    assert.unreachable('a file without the magic bytes');
  } catch (err) {
    assert.instance(err, bundle.AaraError);
    assert.is((err as InstanceType<typeof bundle.AaraError>).code, 'BAD_MAGIC');
  }
  await bundle.close();
});

test('the bundle finds the packaged weights above its own file, and says so when it cannot (FILE_NOT_FOUND)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aara-bundle-'));
  try {
    // the bundle alone, outside any package: nothing above it names aara
    copyFileSync(repoPath('dist/bundle/index.js'), join(dir, 'index.js'));
    const alone = await import(pathToFileURL(join(dir, 'index.js')).href) as typeof aara;
    try {
      alone.loadWeights();
      assert.unreachable('no package above the bundle');
    } catch (err) {
      assert.instance(err, alone.AaraError); // the copy's own class
      assert.is((err as InstanceType<typeof alone.AaraError>).code, 'FILE_NOT_FOUND');
      assert.match((err as Error).message, /aara's package.json, in no folder above/);
    }
    assert.is(alone.loadWeights(repoPath('weights/test-tiny.bin')).idHex, aara.loadWeights(repoPath('weights/test-tiny.bin')).idHex);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('encodeLevels of an image of one encode tile runs on the calling thread: encodeSync\'s bytes at each level', async () => {
  const img = syntheticImage(70, 45, 9);
  const files = await aara.encodeLevels(img, [1, 0], { weights: tinyBytes, threads: 2 });
  assert.equal(files.map((f) => f.level), [1, 0]);
  for (const { level, bytes, seconds } of files) {
    assert.equal(bytes, aara.encodeSync(img, { weights: tinyBytes, level }), `level ${level}`);
    assert.ok(seconds > 0, `level ${level}: ${seconds} s`);
  }
  await aara.close();
});

test('a decode-only cold start loads neither pngjs, jpeg-js, node:zlib nor node:worker_threads (both Node entries, sync and async; encodeLevels of a small image neither)', () => {
  const file = aara.encodeSync(syntheticImage(16, 16, 3), { weights: tinyBytes, level: 0 });
  for (const entry of ['aara', pathToFileURL(repoPath('dist/src/index.js')).href]) {
    // a fresh process: this one has loaded them all
    const script = `
      import { createRequire } from 'node:module';
      const aara = await import(${JSON.stringify(entry)});
      const file = new Uint8Array(${JSON.stringify([...file])});
      aara.decodeSync(file, { weights: ${JSON.stringify(repoPath('weights/test-tiny.bin'))} });
      await aara.decode(file, { weights: ${JSON.stringify(repoPath('weights/test-tiny.bin'))} });
      await aara.encodeLevels({ width: 16, height: 16, data: new Uint8Array(768) }, [0, 1], { weights: ${JSON.stringify(repoPath('weights/test-tiny.bin'))} });
      const loaded = process.moduleLoadList.filter((m) => /^NativeModule (zlib|worker_threads)$/.test(m));
      const packages = Object.keys(createRequire(import.meta.url).cache).filter((path) => /[\\/](pngjs|jpeg-js)[\\/]/.test(path));
      console.log(JSON.stringify([...loaded, ...packages]));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoPath(''), encoding: 'utf8' })) as string[];
    assert.equal(loaded, [], entry);
  }
  // and an image read does load them (the check above can see them)
  const png = encodePng(syntheticImage(8, 8, 1));
  const script = `
    const aara = await import('aara');
    aara.encodeSync(new Uint8Array(${JSON.stringify([...png])}), { weights: ${JSON.stringify(repoPath('weights/test-tiny.bin'))} });
    console.log(JSON.stringify(process.moduleLoadList.filter((m) => m === 'NativeModule zlib')));`;
  assert.equal(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repoPath(''), encoding: 'utf8' })), ['NativeModule zlib']);
});

test.run();
