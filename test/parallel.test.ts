/**
 * Tiles and worker threads change nothing: every tile size and every pool size gives the .aara bytes and the
 * pixels of the synchronous, whole-image codec. Mostly with weights/test-tiny.bin (fast), once with the
 * shipped weights. Also: errors from workers keep their AaraError code, and an idle or closed pool lets
 * the process exit.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { DECODE_TILE, decodeSync, decodeTile, decodeTiles, defaultDecodeTile, encodeStreams, encodeSync, writeFile } from '../src/codec/codec.js';
import { encodeLatents, encodeTile } from '../src/model/encoder.js';
import { readContainer, writeContainer } from '../src/format/container.js';
import { AaraError, type ErrorCode } from '../src/core/errors.js';
import { verifiedModel, weightFile, type WeightFile } from '../src/io/weight-files.js';
import { decodeParallel, encodeLevelsParallel, encodeParallel, poolDecodeTile, poolEncodeTile } from '../src/parallel/parallel.js';
import {
  BAND_DECODE_PIXELS, BAND_ENCODE_PIXELS, bandRows, decodeBandBytes, decodesInBands, encodeBandBytes, encodesInBands,
} from '../src/parallel/bands.js';
import { WorkerPool } from '../src/parallel/pool.js';
import { repoPath } from './helpers/fixtures.js';
import { runsOnCallingThread } from '../src/parallel/shared-pool.js';
import { syntheticImage } from './helpers/images.js';
import { releaseSharedSpares, releaseSharedTensor, reusedSharedTensor } from '../src/core/shared-memory.js';

const tiny = weightFile(readFileSync(repoPath('weights/test-tiny.bin')));
const TINY_LEVEL = 1;
/** 1×1, odd sizes that are not multiples of 16, and one large enough for several 48-px tiles */
const SIZES = [[37, 29], [1, 1], [17, 33], [100, 70]] as const;
/** 16 and 48 px are smaller than the encoder's ≈30-px halo; 1024 covers every test image in one tile */
const TILES = [16, 32, 48, 256, 1024];
const POOL_SIZES = [1, 2, 3];

const pools = new Map(POOL_SIZES.map((size) => [size, new WorkerPool(size)]));
const poolOf = (size: number) => pools.get(size)!;

function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  assert.is(actual.length, expected.length, `${what}: length`);
  assert.ok(Buffer.compare(actual, expected) === 0, `${what}: bytes differ`);
}

async function rejectsWith(code: ErrorCode, run: () => Promise<unknown>): Promise<AaraError> {
  try {
    await run();
  } catch (e) {
    assert.instance(e, AaraError);
    assert.is((e as AaraError).code, code, (e as Error).message);
    return e as AaraError;
  }
  throw new Error(`expected ${code}`);
}

/** Sync and pooled codecs over every size, tile and pool size, compared with the whole-image sync result. */
async function checkIdentical(weights: WeightFile, level: number, sizes: readonly (readonly [number, number])[],
  tiles: number[], poolSizes: number[]): Promise<void> {
  const { weights: w, bytes } = weights;
  for (const [width, height] of sizes) {
    const img = syntheticImage(width, height, width * 1000 + height);
    const what = `${width}×${height}`;
    const file = encodeSync(img, w, { level });
    const pixels = decodeSync(file, w).data;
    for (const tile of tiles) {
      assertSameBytes(encodeSync(img, w, { level, tile }), file, `${what} encode, tile ${tile}`);
      assertSameBytes(decodeSync(file, w, { tile }).data, pixels, `${what} decode, tile ${tile}`);
    }
    for (const size of poolSizes) {
      const pool = poolOf(size);
      for (const tile of [16, undefined]) {
        const how = `${what}, ${size} workers, tile ${tile ?? 'default'}`;
        assertSameBytes(await encodeParallel(img, w, bytes, { level, tile, pool }), file, `encode ${how}`);
        const decoded = await decodeParallel(file, w, bytes, { tile, pool });
        assert.equal([decoded.width, decoded.height], [width, height]);
        assertSameBytes(decoded.data, pixels, `decode ${how}`);
      }
    }
  }
}

test('tiles and workers give the bytes of the synchronous codec (test weights)', async () => {
  await checkIdentical(tiny, TINY_LEVEL, SIZES, TILES, POOL_SIZES);
});

test('tiles and workers give the bytes of the synchronous codec (hyper test weights: staged decode)', async () => {
  const hyper = weightFile(readFileSync(repoPath('weights/test-tiny-hyper.bin')));
  // 40×300: ẑ's grid has 38 rows, so 3 workers compute its prior in 3 bands of 16 rows, 1 worker in one
  await checkIdentical(hyper, 0, [[37, 29], [1, 1], [100, 70], [40, 300]], [16, 48, 1024], [1, 3]);
});

test('tiles and workers give the bytes of the synchronous codec (checkerboard test weights: two passes over ẑ)', async () => {
  const checkerboard = weightFile(readFileSync(repoPath('weights/test-tiny-checkerboard.bin')));
  await checkIdentical(checkerboard, 1, [[37, 29], [1, 1], [100, 70], [40, 300]], [16, 48, 1024], [1, 3]);
});

test('tiles and workers give the bytes of the synchronous codec (spacechannel test weights: four passes over ẑ)', async () => {
  const spacechannel = weightFile(readFileSync(repoPath('weights/test-tiny-spacechannel.bin')));
  await checkIdentical(spacechannel, 1, [[37, 29], [1, 1], [100, 70], [40, 300]], [16, 48, 1024], [1, 3]);
});

test('tiles and workers give the bytes of the synchronous codec (ycontext test weights: ŷ in two parts)', async () => {
  const ycontext = weightFile(readFileSync(repoPath('weights/test-tiny-ycontext.bin')));
  await checkIdentical(ycontext, 1, [[37, 29], [1, 1], [100, 70], [40, 300]], [16, 48, 1024], [1, 3]);
});

test('tiles and workers give the bytes of the synchronous codec (ychannel test weights: ŷ in four steps)', async () => {
  const ychannel = weightFile(readFileSync(repoPath('weights/test-tiny-ychannel.bin')));
  await checkIdentical(ychannel, 1, [[37, 29], [1, 1], [100, 70], [40, 300]], [16, 48, 1024], [1, 3]);
});

test('tiles and workers give the bytes of the synchronous codec (shipped weights)', async () => {
  const shipped = weightFile(readFileSync(repoPath('weights/aara.bin')));
  await checkIdentical(shipped, 3, [[70, 45]], [16, 48], [2]);
});

test('several levels sharing f_m(x) give the bytes of the synchronous codec at each level', async () => {
  for (const [{ weights: w, bytes }, levels] of [[tiny, [1, 0]], [weightFile(readFileSync(repoPath('weights/aara.bin'))), [0, 3, 5]]] as const) {
    const img = syntheticImage(70, 45, 9);
    const files = await encodeLevelsParallel(img, w, bytes, [...levels], { pool: poolOf(2) });
    assert.equal(files.map((f) => f.level), levels);
    for (const { level, bytes: file, seconds } of files) {
      assertSameBytes(file, encodeSync(img, w, { level }), `level ${level}`);
      assert.ok(seconds > 0, `level ${level}: ${seconds} s`);
    }
  }
  await rejectsWith('BAD_LEVEL', () => encodeLevelsParallel(syntheticImage(8, 8, 1), tiny.weights, tiny.bytes, [0, 2], { pool: poolOf(2) }));
});

test('the pool cuts a small image finer so that every worker has a tile, and keeps large tiles otherwise', () => {
  // decode: squares, up to the sync decoder's 512 (256 above 2048×2048 padded pixels)
  assert.is(poolDecodeTile(512, 768, 1), 512);
  assert.is(poolDecodeTile(4000, 6000, 16), 256);
  for (const workers of [2, 4, 16]) {
    const tile = poolDecodeTile(512, 768, workers);
    assert.ok(tile < 512 && tile >= 128 && tile % 16 === 0, `${workers} workers: tile ${tile}`);
  }
  // ... when a decode goes by tiles at all: up to BAND_DECODE_PIXELS (1 Mpixel) it goes by layer bands, unless a tile is asked for
  assert.ok(decodesInBands(512, 768) && decodesInBands(1024, 1024) && !decodesInBands(1024, 1040) && !decodesInBands(512, 768, 384));
  assert.is(BAND_DECODE_PIXELS, 1024 * 1024);
  // ... and an encode, up to what the sync encoder takes in one tile
  assert.ok(encodesInBands(512, 768) && encodesInBands(768, 512) && !encodesInBands(528, 768) && !encodesInBands(512, 768, { rows: 512, cols: 768 }));
  assert.is(BAND_ENCODE_PIXELS, 768 * 512);
  // encode: rectangles, up to the sync encoder's tile (all of a 768×512 image; 512 px above)
  assert.equal(poolEncodeTile(512, 768, 1), { rows: 512, cols: 768 });
  assert.equal(poolEncodeTile(512, 768, 2), { rows: 512, cols: 384 });
  assert.equal(poolEncodeTile(768, 512, 2), { rows: 384, cols: 512 });
  assert.equal(poolEncodeTile(1024, 1024, 2), { rows: 512, cols: 512 });
  assert.equal(poolEncodeTile(4000, 6000, 16), { rows: 256, cols: 256 });
  for (const workers of [2, 3, 4, 16]) {
    const { rows, cols } = poolEncodeTile(512, 768, workers);
    assert.ok(rows * cols <= 512 * 384 && Math.min(rows, cols) >= 128 && rows % 16 === 0 && cols % 16 === 0, `${workers} workers: ${rows}×${cols}`);
  }
});

test('encode tiles: one up to 768 × 512 padded pixels (no halo), 512 px above, 256 above 2048×2048', () => {
  assert.equal(encodeTile({ h: 512, w: 768 }), { rows: 512, cols: 768 });
  assert.equal(encodeTile({ h: 768, w: 512 }), { rows: 768, cols: 512 });
  assert.equal(encodeTile({ h: 16, w: 16 }), { rows: 16, cols: 16 });
  assert.equal(encodeTile({ h: 528, w: 768 }), { rows: 512, cols: 512 });
  assert.equal(encodeTile({ h: 4000, w: 6000 }), { rows: 256, cols: 256 });
});

test('decode tiles: twice DECODE_TILE up to 2048×2048 padded pixels (less repeated work), DECODE_TILE above (memory)', () => {
  assert.is(defaultDecodeTile(512, 768), 2 * DECODE_TILE);
  assert.is(defaultDecodeTile(2048, 2048), 2 * DECODE_TILE);
  assert.is(defaultDecodeTile(2048, 2064), DECODE_TILE);
  assert.is(defaultDecodeTile(4000, 6000), DECODE_TILE);
  // a 768×512 image's latent: 2 tiles by default (512 + 256 columns), 6 of DECODE_TILE
  const y = { c: 1, h: 32, w: 48 };
  assert.is(decodeTiles(y).length, 2);
  assert.is(decodeTiles(y, DECODE_TILE).length, 6);
});

test('the .aara bytes are a plain Uint8Array; the grayscale flag is kept', async () => {
  const img = syntheticImage(20, 20, 7);
  const file = await encodeParallel(img, tiny.weights, tiny.bytes, { level: 0, grayscale: true, pool: poolOf(2) });
  assert.ok(file.buffer instanceof ArrayBuffer);
  assertSameBytes(file, encodeSync(img, tiny.weights, { level: 0, grayscale: true }), 'grayscale file');
});

test('a corrupt stream fails in a worker with the code and message of the synchronous decoder', async () => {
  const file = readContainer(encodeSync(syntheticImage(37, 29, 1), tiny.weights, { level: TINY_LEVEL }));
  const broken = writeContainer({ ...file, streams: file.streams.map((s, i) => (i === 1 ? s.subarray(0, s.length - 1) : s)) });
  let syncError: unknown;
  try {
    decodeSync(broken, tiny.weights);
  } catch (e) {
    syncError = e;
  }
  assert.instance(syncError, AaraError);
  const e = await rejectsWith((syncError as AaraError).code, () => decodeParallel(broken, tiny.weights, tiny.bytes, { pool: poolOf(2) }));
  assert.is((syncError as AaraError).code, 'CORRUPT');
  assert.is(e.message, (syncError as Error).message);
  assert.is(e.exitCode, (syncError as AaraError).exitCode);
  // the pool still works after a failed task
  const img = syntheticImage(17, 33, 2);
  assertSameBytes(await encodeParallel(img, tiny.weights, tiny.bytes, { level: 0, pool: poolOf(2) }),
    encodeSync(img, tiny.weights, { level: 0 }), 'after an error');
});

test('the checks of the synchronous codec run first, with the same codes', async () => {
  const pool = poolOf(2);
  const img = syntheticImage(8, 8, 3);
  await rejectsWith('BAD_LEVEL', () => encodeParallel(img, tiny.weights, tiny.bytes, { level: 99, pool }));
  await rejectsWith('BAD_PIXELS', () => encodeParallel({ ...img, data: img.data.subarray(1) }, tiny.weights, tiny.bytes, { level: 0, pool }));
  await rejectsWith('BAD_ARGUMENT', () => encodeParallel(img, tiny.weights, tiny.bytes, { level: 0, tile: 24, pool }));
  await rejectsWith('BAD_MAGIC', () => decodeParallel(new Uint8Array(32), tiny.weights, tiny.bytes, { pool }));
  const shipped = weightFile(readFileSync(repoPath('weights/aara.bin')));
  const file = encodeSync(img, tiny.weights, { level: 0 });
  await rejectsWith('WEIGHTS_MISMATCH', () => decodeParallel(file, shipped.weights, shipped.bytes, { pool }));
});

test('close() fails the tasks in progress; the pool starts again on its next task', async () => {
  const pool = new WorkerPool(2);
  const img = syntheticImage(17, 33, 4);
  const expected = encodeSync(img, tiny.weights, { level: 0 });
  const interrupted = rejectsWith('INTERNAL', () => encodeParallel(img, tiny.weights, tiny.bytes, { level: 0, pool }));
  await pool.close();
  await interrupted;
  assertSameBytes(await encodeParallel(img, tiny.weights, tiny.bytes, { level: 0, pool }), expected, 'after close');
  await pool.close();
});

test('workers start in a process given V8 options that a worker refuses (node --max-old-space-size=…, --stack-size=…)', () => {
  const run = runScript(`
    import { encode, decode, encodeSync, decodeSync, close } from ${JSON.stringify(library)};
    const weights = ${tinyPath};
    const img = { width: 528, height: 520, data: new Uint8Array(528 * 520 * 3).map((_, i) => (i * 37) % 251) };
    const file = await encode(img, { level: 1, weights, threads: 2 });
    const same = Buffer.compare(file, encodeSync(img, { level: 1, weights })) === 0
      && Buffer.compare((await decode(file, { weights, threads: 2 })).data, decodeSync(file, { weights }).data) === 0;
    await close();
    console.log(same ? 'identical' : 'different');`, ['--max-old-space-size=2048', '--stack-size=900']);
  assert.is(run.status, 0, run.output);
  assert.is(run.output.trim(), 'identical');
});

/** Runs a module script in a fresh Node process (with Node `flags`), against the built library. */
function runScript(source: string, flags: string[] = []): { status: number | null; output: string } {
  const run = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', source], { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: run.stdout + run.stderr };
}

const library = pathToFileURL(repoPath('dist/src/index.js')).href;
const tinyPath = JSON.stringify(repoPath('weights/test-tiny.bin'));

test('onTile counts every tile once, 1 … total, synchronous and pooled; the bytes do not change', async () => {
  const { weights: w, bytes } = tiny;
  const img = syntheticImage(100, 70, 3);
  const calls = () => {
    const seen: Array<[number, number]> = [];
    return { seen, onTile: (done: number, total: number) => void seen.push([done, total]) };
  };
  const expectCount = (seen: Array<[number, number]>, total: number, what: string) =>
    assert.equal(seen, Array.from({ length: total }, (_, i) => [i + 1, total]), what);
  const plain = encodeSync(img, w, { level: TINY_LEVEL, tile: 48 });
  // 100×70 pads to 112×80: 48-px tiles 3 × 2 for f_m, and the same 3 × 2 for f_r
  const encodeTiles = 12;
  const sync = calls();
  assertSameBytes(encodeSync(img, w, { level: TINY_LEVEL, tile: 48, onTile: sync.onTile }), plain, 'encodeSync');
  expectCount(sync.seen, encodeTiles, 'encodeSync');
  const pooled = calls();
  assertSameBytes(await encodeParallel(img, w, bytes, { level: TINY_LEVEL, tile: 48, pool: poolOf(2), onTile: pooled.onTile }), plain, 'encodeParallel');
  assert.equal(pooled.seen.map(([done]) => done), Array.from({ length: encodeTiles }, (_, i) => i + 1));
  assert.ok(pooled.seen.every(([, total]) => total === encodeTiles));
  const decodeTileCount = decodeTiles(encodeLatents(img, w, TINY_LEVEL).y, 32).length;
  const dSync = calls();
  decodeSync(plain, w, { tile: 32, onTile: dSync.onTile });
  expectCount(dSync.seen, decodeTileCount, 'decodeSync');
  const dPooled = calls();
  await decodeParallel(plain, w, bytes, { tile: 32, pool: poolOf(3), onTile: dPooled.onTile });
  expectCount(dPooled.seen, decodeTileCount, 'decodeParallel');
  // without a tile, the pool's tasks are bands: every layer of g_m (over ŷ's 5 × 7 grid) and g_r (ẑ's 10 × 14), then φ
  const bands = calls();
  await decodeParallel(plain, w, bytes, { pool: poolOf(3), onTile: bands.onTile });
  const layerBands = (t: { convs: unknown[] }, rows: number) => t.convs.reduce((n: number, _, i) => n + bandRows(rows * 2 ** (i + 1), 3).length, 0);
  expectCount(bands.seen, layerBands(w.mainDecoder, 5) + layerBands(w.resDecoder, 10) + bandRows(80, 3).length, 'decodeParallel, bands');
});

test('library encode/decode equal the sync ones; the process exits with or without close()', () => {
  for (const ending of ['await close();', '']) {
    // 528×520 is above one encode tile (512×512): workers; 33×18 runs on the calling thread (runsOnCallingThread),
    // seen by a setImmediate that cannot run before the call ends there but runs while workers compute
    const run = runScript(`
      import { encode, decode, encodeSync, decodeSync, close } from ${JSON.stringify(library)};
      const weights = ${tinyPath};
      for (const [width, height] of [[33, 18], [528, 520]]) {
        const img = { width, height, data: new Uint8Array(width * height * 3).map((_, i) => (i * 37) % 251) };
        let ticked = false;
        setImmediate(() => { ticked = true; });
        const file = await encode(img, { level: 1, weights, threads: 2 });
        const encodeTicked = ticked;
        ticked = false;
        setImmediate(() => { ticked = true; });
        const same = Buffer.compare(file, encodeSync(img, { level: 1, weights })) === 0
          && Buffer.compare((await decode(file, { weights, threads: 2 })).data, decodeSync(file, { weights }).data) === 0;
        console.log(width, same ? 'identical' : 'different', encodeTicked ? 'workers' : 'here', ticked ? 'workers' : 'here');
      }
      ${ending}`);
    assert.is(run.status, 0, run.output);
    assert.is(run.output.trim(), '33 identical here here\n528 identical workers workers');
  }
});

test('a worker keeps the models of its last two weight files (no repacking when a program alternates two)', () => {
  const bytes = tiny.bytes;
  const [a, b, c] = [1e6, 1e6 + 1, 1e6 + 2].map((key) => ({ key, bytes }));
  const modelA = verifiedModel(a);
  const modelB = verifiedModel(b);
  assert.ok(modelA !== modelB, 'one model per file key');
  assert.ok(verifiedModel(a) === modelA && verifiedModel(b) === modelB, 'both kept');
  verifiedModel(c); // evicts a, the least recently used
  assert.ok(verifiedModel(b) === modelB, 'b kept');
  assert.ok(verifiedModel(a) !== modelA, 'a parsed again');
});

test('a banded decode cuts each layer into about 4 bands a worker on the 8-row grid, and counts its whole-image tensors', () => {
  for (const [h, workers] of [[1, 2], [10, 3], [64, 2], [512, 2], [1024, 16], [2, 1]] as const) {
    const bands = bandRows(h, workers);
    assert.is(bands[0].start, 0);
    assert.is(bands[bands.length - 1].end, h);
    bands.forEach((b, i) => {
      assert.ok(b.end > b.start && (i === 0 || b.start === bands[i - 1].end), `${h} rows, ${workers} workers: contiguous`);
      assert.ok(b.start % 8 === 0, `${h} rows, ${workers} workers: band at ${b.start}`);
    });
    assert.ok(bands.length <= 4 * workers && (h <= 8 * 4 * workers || bands.length > 2 * workers), `${h} rows, ${workers} workers: ${bands.length} bands`);
  }
  assert.equal(bandRows(512, 2).map((b) => b.start), [0, 64, 128, 192, 256, 320, 384, 448]);
  // 768×512 with the shipped model: g_m 64, 64, 64, 3 channels at 1/8 … 1, g_r 48, 48, 3 at 1/4 … 1 (float32)
  const shipped = weightFile(readFileSync(repoPath('weights/aara.bin'))).weights;
  const pixels = 768 * 512;
  assert.is(decodeBandBytes(512, 768, shipped), 4 * pixels * (64 / 64 + 64 / 16 + 64 / 4 + 3 + 48 / 16 + 48 / 4 + 3));
  assert.is(decodeBandBytes(2048, 2048, shipped), 0, 'tiles above 1 Mpixel');
  // an encode: f_m 64, 64, 64, 128 channels at 1/2 … 1/16, g_m as above, f_r 48, 48, 64 at 1/2 … 1/8
  assert.is(encodeBandBytes(512, 768, shipped),
    4 * pixels * (64 / 4 + 64 / 16 + 64 / 64 + 128 / 256 + 64 / 64 + 64 / 16 + 64 / 4 + 3 + 48 / 4 + 48 / 16 + 64 / 64));
  assert.is(encodeBandBytes(528, 768, shipped), 0, 'tiles above 768×512');
});

test('async calls run on the calling thread only when a worker cannot be faster', () => {
  assert.ok(runsOnCallingThread(1 << 20, 256, 1), 'a pool of one thread');
  assert.ok(runsOnCallingThread(256 * 256, 256, 2), 'one tile');
  assert.not.ok(runsOnCallingThread(256 * 256 + 1, 256, 2), 'more than one tile');
});

test('latents beyond int16 (decoded narrow by default) decode, sync and on the pool, as their int32 symbols say', async () => {
  const w = tiny.weights;
  const img = syntheticImage(40, 24, 11);
  const latents = encodeLatents(img, w, TINY_LEVEL);
  const { y, z } = latents;
  y.symbols![3] = 40_000;
  z.symbols![z.symbols!.length - 1] = -50_000;
  const file = writeFile(img, w, { level: TINY_LEVEL }, encodeStreams(latents, w, TINY_LEVEL));
  const expected = { width: img.width, height: img.height, data: new Uint8Array(img.width * img.height * 3) };
  for (const region of decodeTiles(y)) decodeTile(expected, latents, w, TINY_LEVEL, region);
  assertSameBytes(decodeSync(file, w).data, expected.data, 'sync');
  for (const size of POOL_SIZES) {
    assertSameBytes((await decodeParallel(file, w, tiny.bytes, { pool: poolOf(size) })).data, expected.data, `${size} workers`);
  }
});

test('close() also frees the activation buffers the sync calls keep for reuse', () => {
  const tensorModule = JSON.stringify(pathToFileURL(repoPath('dist/src/model/tensor.js')).href);
  const run = runScript(`
    import { encodeSync, decodeSync, close } from ${JSON.stringify(library)};
    import { spareBytes } from ${tensorModule};
    const img = { width: 64, height: 48, data: new Uint8Array(64 * 48 * 3).map((_, i) => (i * 29) % 253) };
    decodeSync(encodeSync(img, { level: 1, weights: ${tinyPath} }), { weights: ${tinyPath} });
    const kept = spareBytes();
    await close();
    process.stdout.write(kept + " " + spareBytes());`);
  assert.is(run.status, 0, run.output);
  const [kept, after] = run.output.trim().split(' ').map(Number);
  assert.ok(kept > 0, run.output);
  assert.is(after, 0);
});

test('the bands reuse the shared buffers of earlier rounds and calls, never their contents', async () => {
  // two images of one size, the second brighter: every band tensor of its calls is a spare the first's left behind
  const [width, height] = [96, 80];
  const pool = poolOf(2);
  for (const seed of [1, 2, 3]) {
    const img = syntheticImage(width, height, seed);
    const file = encodeSync(img, tiny.weights, { level: TINY_LEVEL });
    assertSameBytes(await encodeParallel(img, tiny.weights, tiny.bytes, { level: TINY_LEVEL, pool }), file, `encode, image ${seed}`);
    assertSameBytes((await decodeParallel(file, tiny.weights, tiny.bytes, { pool })).data, decodeSync(file, tiny.weights).data, `decode, image ${seed}`);
  }
});

test('shared spares: the smallest that fits and is at most twice the size; released ones kept largest first within 64 MB', () => {
  releaseSharedSpares();
  const a = reusedSharedTensor(4, 100, 100); // 160 000 bytes
  a.data.fill(7);
  releaseSharedTensor(a);
  const small = reusedSharedTensor(1, 100, 100); // 40 000: a is 4× that, so a new buffer
  assert.is.not(small.data.buffer, a.data.buffer);
  const b = reusedSharedTensor(3, 100, 100); // 120 000: a fits
  assert.is(b.data.buffer, a.data.buffer);
  assert.is(b.data.length, 30000);
  assert.is(b.data[0], 7, 'a spare is not zeroed: its writer sets every element');
  const big = [40, 30, 20].map((mb) => reusedSharedTensor(mb, 1024, 256)); // 40, 30, 20 MB, released in turn:
  big.forEach(releaseSharedTensor); // 40 + 30 > 64 MB drops the 30, then 40 + 20 fit
  assert.is(reusedSharedTensor(30, 1024, 256).data.buffer, big[0].data.buffer, '30 MB: the 40 MB spare');
  assert.is(reusedSharedTensor(20, 1024, 256).data.buffer, big[2].data.buffer, '20 MB: the 20 MB spare');
  assert.ok(![big[1].data.buffer].includes(reusedSharedTensor(30, 1024, 256).data.buffer), 'the 30 MB one was not kept');
  releaseSharedSpares();
});

test.after(async () => {
  await Promise.all([...pools.values()].map((pool) => pool.close()));
});

test.run();
