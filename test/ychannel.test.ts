/**
 * The ychannel kind (weights/test-tiny-ychannel.bin, seeded and untrained, its contexts made to move the priors): the
 * ycontext kind, with ŷ coded in ẑ's four space-channel steps (its anchors' first channel half with h_s's prior, their
 * second half with ŷ's k_a, its others' first half with s_y, e_y, their second half with ŷ's k_o). The decoder rebuilds
 * the encoder's ŷ means and scale indexes bit for bit, each stream covers exactly its step, and every weight of the
 * context networks is stored as a half.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import type { Tensor } from '../src/core/types.js';
import { decodeStages, decodeSync, encodeSync, fileChains, fileGroups } from '../src/codec/codec.js';
import { readContainer, writeContainer } from '../src/format/container.js';
import { decodeParallel, encodeParallel } from '../src/parallel/parallel.js';
import { WorkerPool } from '../src/parallel/pool.js';
import { encodeLatents } from '../src/model/encoder.js';
import { partPositions } from '../src/model/bottleneck.js';
import { mainCenters, mainSteps } from '../src/model/priors.js';
import { readWeights, type Conv } from '../src/format/weights.js';
import { repoPath } from './helpers/fixtures.js';
import { syntheticImage } from './helpers/images.js';
import { checkMainCentersRebuilt } from './helpers/main-steps.js';
import { failsWith } from './helpers/assert-code.js';
import { fixCrc, streamBytes, withBitFlipped } from './helpers/bitstream-fuzz.js';
import { version1File } from './helpers/version1.js';

const weightBytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny-ychannel.bin')));
const w = readWeights(weightBytes);
const ycontext = readWeights(new Uint8Array(readFileSync(repoPath('weights/test-tiny-ycontext.bin'))));

/** A float32 value that a half holds exactly has its 13 low fraction bits 0 (and a half's exponent range). */
function isHalf(v: number): boolean {
  const bits = new Uint32Array(new Float32Array([v]).buffer)[0];
  const exponent = (bits >>> 23) & 0xff;
  return v === 0 || ((bits & 0x1fff) === 0 && exponent >= 127 - 24 && exponent <= 127 + 15);
}

test('the ychannel test weights: the ycontext kind\'s networks and ŷ\'s k_a, k_o; every context weight a half', () => {
  assert.equal(w.config, { ...ycontext.config, kind: 'ychannel' });
  const { M, Nh } = w.config;
  const { mainChannel, mainSpatial, resSpatial, resChannel } = w.hyper!;
  for (const net of [mainChannel!.anchors, mainChannel!.others]) {
    assert.equal(net.map((p) => [p.inC, p.outC, p.k]), [[M / 2 + M, Nh, 3], [Nh, M, 1]]);
  }
  assert.is(ycontext.hyper!.mainChannel, undefined);
  const contexts: Conv[] = [mainSpatial!.spatial, ...mainSpatial!.params, resSpatial!.spatial, ...resSpatial!.params,
    ...resChannel!.anchors, ...resChannel!.others, ...mainChannel!.anchors, ...mainChannel!.others];
  for (const layer of contexts) {
    assert.ok(layer.weight.every(isHalf), `${layer.inC}→${layer.outC} k${layer.k}: halves`);
    assert.ok(layer.weight.some((v) => v !== 0), 'not all zero');
  }
  // the transforms stay float32 (the file would hold halves only if its weights were all halves by chance)
  assert.not.ok(w.mainDecoder.convs[1].weight.every(isHalf));
});

test('ŷ in four steps: anchors\' halves, then the others\', 64 channels a group (here M = 16: one a step), a stage each', () => {
  const { M } = w.config;
  assert.equal(mainSteps(w).map((s) => [s.pass, s.part, s.channels.start, s.channels.end]), [
    [undefined, 'anchors', 0, M / 2], ['anchorChannels', 'anchors', M / 2, M], ['others', 'others', 0, M / 2], ['otherChannels', 'others', M / 2, M]]);
  const y = fileGroups(w).filter((t) => t.latent === 'y');
  assert.equal(y.map((t) => [t.part, t.channels.start, t.channels.end, t.step]),
    [['anchors', 0, 8, 0], ['anchors', 8, 16, 1], ['others', 0, 8, 2], ['others', 8, 16, 3]]);
  // ŵ, ŷ's four steps, then ẑ's four: a stage a set of groups, ŷ settled after its last
  const stages = decodeStages(w);
  assert.equal(stages.map((s) => s.groups), [[0], [1], [2], [3], [4], [5], [6], [7], [8]]);
  assert.equal(stages.map((s) => s.settles), [undefined, undefined, undefined, undefined, 'y', undefined, undefined, undefined, 'z']);
});

test('ŷ\'s channel context moves the second half\'s anchor priors and leaves the first half\'s as h_s gives them', () => {
  const { y, hyper } = encodeLatents(syntheticImage(100, 70, 3), w, 1);
  const first = mainCenters(hyper!, w, 1, y) as { means: Float32Array; indexes: Uint8Array; context: Tensor };
  const { M } = w.config;
  const gains = w.gainY.subarray(M, 2 * M); // level 1
  const hsMean = (c: number, p: number) =>
    Math.fround(first.context.data[(c * first.context.h + Math.floor(p / y.w)) * first.context.w + (p % y.w)] * gains[c]);
  const plane = y.h * y.w;
  const anchors = partPositions(y.h, y.w, 'anchors')!;
  let moved = 0;
  for (let c = 0; c < M; c++) {
    for (const p of anchors) {
      if (c < M / 2) assert.is(y.means![c * plane + p], hsMean(c, p));
      else if (y.means![c * plane + p] !== hsMean(c, p)) moved++;
    }
  }
  assert.ok(moved > 0.9 * (M / 2) * anchors.length, `${moved} of ${(M / 2) * anchors.length} second-half anchor means moved`);
});

test('the decoder rebuilds the encoder\'s ŷ means and indexes from the symbols alone, in bands of any height; files decode to the encoder\'s x̂', () => {
  checkMainCentersRebuilt(w);
});

test('version 2: every coding group chained in one stream; the same pixels as version 1, sync and on the pool, in fewer bytes', async () => {
  const groups = fileGroups(w).length;
  assert.equal(fileChains(w), [Array.from({ length: groups }, (_, i) => i)]);
  const pool = new WorkerPool(2);
  try {
    for (const [img, level] of [[syntheticImage(100, 70, 7), 1], [syntheticImage(37, 29, 3), 0.5], [syntheticImage(1, 1, 1), 0]] as const) {
      const bytes = encodeSync(img, w, { level });
      const file = readContainer(bytes);
      assert.is(file.version, 2);
      assert.is(file.streams.length, 1);
      const old = version1File(img, w, level);
      assert.is(readContainer(old).streams.length, groups);
      const pixels = decodeSync(old, w).data;
      assert.equal(decodeSync(bytes, w).data, pixels, `${img.width}×${img.height}`);
      assert.equal((await decodeParallel(bytes, w, weightBytes, { pool, tile: 16 })).data, pixels);
      assert.equal((await decodeParallel(old, w, weightBytes, { pool, tile: 16 })).data, pixels);
      // at least the 4-byte lengths of the other streams (and ≈ 3 bytes of each one's final state) are gone
      assert.ok(bytes.length <= old.length - 4 * (groups - 1), `${bytes.length} bytes, version 1: ${old.length}`);
      assert.ok(Buffer.from(await encodeParallel(img, w, weightBytes, { pool, level })).equals(bytes), 'the pool writes the same bytes');
    }
  } finally {
    await pool.close();
  }
});

test('a chained stream: every bit flip (CRC fixed) is CORRUPT or an image; a cut stream, extra bytes, version 1 with its streams: CORRUPT', () => {
  const bytes = encodeSync(syntheticImage(37, 29, 3), w, { level: 1 });
  const { start, end } = streamBytes(bytes);
  const outcomes = new Set<string>();
  for (let bit = start * 8; bit < end * 8; bit++) {
    try {
      const img = decodeSync(fixCrc(withBitFlipped(bytes, bit)), w);
      assert.is(img.data.length, 37 * 29 * 3);
      outcomes.add('image');
    } catch (e) {
      assert.is((e as { code?: string }).code, 'CORRUPT', `bit ${bit}`);
      outcomes.add('CORRUPT');
    }
  }
  assert.ok(outcomes.has('CORRUPT'));
  const file = readContainer(bytes);
  const [stream] = file.streams;
  failsWith('CORRUPT', () => decodeSync(writeContainer({ ...file, streams: [stream.subarray(0, stream.length - 1)] }), w));
  failsWith('CORRUPT', () => decodeSync(writeContainer({ ...file, streams: [Uint8Array.of(...stream, 0)] }), w), /left after the last rANS symbol/);
  failsWith('CORRUPT', () => decodeSync(writeContainer({ ...file, version: 1 }), w), /1 streams, this model writes 9 in version 1/);
  const factorized = readWeights(new Uint8Array(readFileSync(repoPath('weights/test-tiny.bin'))));
  const old = readContainer(encodeSync(syntheticImage(37, 29, 3), factorized, { level: 1 }));
  assert.is(old.version, 1, 'the factorized kind writes version 1: its streams decode side by side');
  failsWith('CORRUPT', () => decodeSync(writeContainer({ ...old, version: 2 }), factorized), /version-2 file for the factorized kind/);
});

test.run();
