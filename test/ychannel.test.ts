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
import { decodeStages, fileStreams } from '../src/codec/codec.js';
import { encodeLatents } from '../src/model/encoder.js';
import { partPositions } from '../src/model/bottleneck.js';
import { mainCenters, mainSteps } from '../src/model/priors.js';
import { readWeights, type Conv } from '../src/format/weights.js';
import { repoPath } from './helpers/fixtures.js';
import { syntheticImage } from './helpers/images.js';
import { checkMainCentersRebuilt } from './helpers/main-steps.js';

const w = readWeights(new Uint8Array(readFileSync(repoPath('weights/test-tiny-ychannel.bin'))));
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

test('ŷ in four steps: anchors\' halves, then the others\', 64 channels a stream (here M = 16: one a step), a stage each', () => {
  const { M } = w.config;
  assert.equal(mainSteps(w).map((s) => [s.pass, s.part, s.channels.start, s.channels.end]), [
    [undefined, 'anchors', 0, M / 2], ['anchorChannels', 'anchors', M / 2, M], ['others', 'others', 0, M / 2], ['otherChannels', 'others', M / 2, M]]);
  const y = fileStreams(w).filter((t) => t.latent === 'y');
  assert.equal(y.map((t) => [t.part, t.channels.start, t.channels.end, t.step]),
    [['anchors', 0, 8, 0], ['anchors', 8, 16, 1], ['others', 0, 8, 2], ['others', 8, 16, 3]]);
  // ŵ, ŷ's four steps, then ẑ's four: a stage a set of streams, ŷ settled after its last
  const stages = decodeStages(w);
  assert.equal(stages.map((s) => s.streams), [[0], [1], [2], [3], [4], [5], [6], [7], [8]]);
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

test.run();
