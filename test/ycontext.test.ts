/**
 * The ycontext kind (weights/test-tiny-ycontext.bin, seeded and untrained, its contexts made to move the priors): the
 * spacechannel kind's ẑ, and ŷ coded in two parts, its anchors with h_s's prior, then its other elements with priors
 * that also see the decoded anchors (s_y, e_y). The decoder rebuilds the encoder's ŷ means and scale indexes bit for
 * bit, ŷ's streams cover exactly their part, and the weight file's halves and compact tables read exactly.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import type { Tensor } from '../src/core/types.js';
import { decodeSync, decodeStages, fileGroups } from '../src/codec/codec.js';
import { encodeLatents } from '../src/model/encoder.js';
import { partPositions } from '../src/model/bottleneck.js';
import { mainCenters, mainSteps } from '../src/model/priors.js';
import { readContainer, writeContainer } from '../src/format/container.js';
import { halfToFloat, readWeights, widenHalves } from '../src/format/weights.js';
import { failsWith } from './helpers/assert-code.js';
import { repoPath } from './helpers/fixtures.js';
import { syntheticImage } from './helpers/images.js';
import { checkMainCentersRebuilt } from './helpers/main-steps.js';
import { version1File } from './helpers/version1.js';

const bytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny-ycontext.bin')));
const w = readWeights(bytes);
const spacechannel = readWeights(new Uint8Array(readFileSync(repoPath('weights/test-tiny-spacechannel.bin'))));


test('halves widen exactly: normal, subnormal, signed zero, infinities, NaN', () => {
  const cases: Array<[number, number]> = [
    [0x3c00, 1], [0xc000, -2], [0x3555, 0.333251953125], [0x7bff, 65504], [0x0400, 2 ** -14], [0x0001, 2 ** -24],
    [0x03ff, 1023 * 2 ** -24], [0x8001, -(2 ** -24)], [0x0000, 0], [0x7c00, Infinity], [0xfc00, -Infinity],
  ];
  for (const [bits, value] of cases) assert.is(halfToFloat(bits), value, `0x${bits.toString(16)}`);
  assert.ok(Object.is(halfToFloat(0x8000), -0), '−0');
  assert.ok(Number.isNaN(halfToFloat(0x7e00)), 'NaN');
});

test('widenHalves = halfToFloat for all 65,536 halves, bit for bit (the sign of zero and NaN included)', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const fast = widenHalves(all), plain = Float32Array.from(all, halfToFloat);
  const fastBits = new Uint32Array(fast.buffer), plainBits = new Uint32Array(plain.buffer);
  for (let h = 0; h < 65536; h++) if (fastBits[h] !== plainBits[h]) assert.unreachable(`0x${h.toString(16)}: ${fast[h]} vs ${plain[h]}`);
});

test('the ycontext test weights: the spacechannel kind\'s networks, and s_y, e_y over ŷ; s_y stored as halves', () => {
  assert.equal(w.config, { ...spacechannel.config, kind: 'ycontext' });
  const { spatial, params } = w.hyper!.mainSpatial!;
  const { M, Nh } = w.config;
  assert.equal([spatial.inC, spatial.outC, spatial.k], [M, Nh, 5]);
  assert.equal(params.map((p) => [p.inC, p.outC, p.k]), [[2 * M + Nh, 2 * Nh, 1], [2 * Nh, 2 * M, 1]]);
  assert.ok(w.hyper!.resSpatial && w.hyper!.resChannel, 'ẑ\'s contexts as the spacechannel kind\'s');
  assert.is(spacechannel.hyper!.mainSpatial, undefined);
  // each weight is the half stored in the 2 bytes it has in the file, just before its bias (an even count: no padding)
  const { bias } = spatial;
  const halves = new Uint16Array(bias.buffer, bias.byteOffset - spatial.weight.length * 2, spatial.weight.length);
  assert.equal(Array.from(halves, halfToFloat), Array.from(spatial.weight));
  assert.ok(spatial.weight.some((v) => v !== 0), 'not all zero');
});

test('ŵ\'s tables, stored rows back to back, read as full rows padded to the stride; a damaged row length is refused', () => {
  const { tables } = w.hyper!.entropyW;
  for (const table of tables) {
    for (let c = 0; c < table.channels; c++) {
      const row = table.cdf.subarray(c * table.stride, (c + 1) * table.stride);
      assert.is(row[0], 0);
      for (let i = table.length[c] + 1; i < table.stride; i++) assert.is(row[i], 1 << 16, `channel ${c}: padded with 2^16`);
    }
  }
  const lengthAt = tables[0].length.byteOffset;
  const damaged = bytes.slice();
  new Int32Array(damaged.buffer, lengthAt, 1)[0] = tables[0].stride - 1;
  failsWith('BAD_WEIGHTS', () => readWeights(damaged, 'verified'), /entropy_w.cdf row 0: table length \d+/);
});

test('ŷ in two parts: the anchors\' groups, then the others\', 64 channels a group, each stage its part', () => {
  assert.equal(mainSteps(w).map((s) => [s.pass, s.part]), [[undefined, 'anchors'], ['others', 'others']]);
  assert.equal(mainSteps(spacechannel).map((s) => [s.pass, s.part]), [[undefined, 'all']]);
  const y = fileGroups(w).filter((t) => t.latent === 'y');
  assert.equal(y.map((t) => [t.part, t.channels.start, t.channels.end]), [['anchors', 0, 16], ['others', 0, 16]]);
  // ŵ, ŷ's anchors, ŷ's others, then ẑ's four steps: a stage a set of groups, ŷ settled after its others'
  const stages = decodeStages(w);
  assert.equal(stages.map((s) => s.groups), [[0], [1], [2], [3], [4], [5], [6]]);
  assert.equal(stages.map((s) => s.settles), [undefined, undefined, 'y', undefined, undefined, undefined, 'z']);
});

test('the spatial context over ŷ moves the others\' priors and leaves the anchors\' as h_s gives them', () => {
  const { y, hyper } = encodeLatents(syntheticImage(100, 70, 3), w, 1);
  const first = mainCenters(hyper!, w, 1, y) as { means: Float32Array; indexes: Uint8Array; context: Tensor };
  const gains = w.gainY.subarray(w.config.M, 2 * w.config.M); // level 1
  // h_s's μ' (its output's first M channels, over ŵ's grid × 4) × g_q at ŷ's element p of channel c
  const hsMean = (c: number, p: number) =>
    Math.fround(first.context.data[(c * first.context.h + Math.floor(p / y.w)) * first.context.w + (p % y.w)] * gains[c]);
  const plane = y.h * y.w;
  let moved = 0;
  const others = partPositions(y.h, y.w, 'others')!;
  for (let c = 0; c < y.c; c++) {
    for (const p of partPositions(y.h, y.w, 'anchors')!) {
      assert.is(y.means![c * plane + p], first.means[c * plane + p]);
      assert.is(y.means![c * plane + p], hsMean(c, p));
    }
    for (const p of others) if (y.means![c * plane + p] !== hsMean(c, p)) moved++;
  }
  assert.ok(moved > 0.9 * y.c * others.length, `${moved} of ${y.c * others.length} non-anchor means moved`);
});

test('the decoder rebuilds the encoder\'s ŷ means and indexes from the symbols alone, in bands of any height; files decode to the encoder\'s x̂', () => {
  checkMainCentersRebuilt(w);
});

test('ŷ\'s others\' stream coded in place of its anchors\' (a CRC-valid version-1 file) is CORRUPT or other pixels', () => {
  const bytes = version1File(syntheticImage(100, 70, 9), w, 1);
  const file = readContainer(bytes);
  const good = decodeSync(bytes, w).data;
  const streams = [...file.streams];
  [streams[1], streams[2]] = [streams[2], streams[1]];
  try {
    assert.not.equal(decodeSync(writeContainer({ ...file, streams }), w).data, good);
  } catch (e) {
    assert.is((e as { code?: string }).code, 'CORRUPT');
  }
});

test.run();
