/**
 * The checkerboard kind (weights/test-tiny-checkerboard.bin, seeded and untrained, its spatial context made to move
 * the priors): ẑ's anchors are coded first, then the other elements with priors that also see the decoded anchors;
 * and the spacechannel kind (weights/test-tiny-spacechannel.bin, its channel contexts made to move the priors too),
 * which codes each of those two parts in channel halves, the second half's priors seeing the first half.
 * The decoder rebuilds the encoder's means and scale indexes bit for bit, band size never matters, and the streams
 * of a part cover exactly that part.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import type { Latent } from '../src/core/types.js';
import { decodeSync, decodeTile, decodeTiles, encodeSync, fileChains, fileGroups } from '../src/codec/codec.js';
import { encodeLatents } from '../src/model/encoder.js';
import { partPositions } from '../src/model/bottleneck.js';
import { finishPass, laterPassCenters, mainCenters, priorBand, residualCenters, startPass, withCenters, type PassKind } from '../src/model/priors.js';
import { decodeChannels, encodeChannels } from '../src/entropy/symbol-coder.js';
import { readContainer, writeContainer } from '../src/format/container.js';
import { readWeights, type Weights } from '../src/format/weights.js';
import { failsWith } from './helpers/assert-code.js';
import { repoPath } from './helpers/fixtures.js';
import { syntheticImage } from './helpers/images.js';
import { version1File } from './helpers/version1.js';

const w = readWeights(new Uint8Array(readFileSync(repoPath('weights/test-tiny-checkerboard.bin'))));
const checkerboard = w;
const spacechannel = readWeights(new Uint8Array(readFileSync(repoPath('weights/test-tiny-spacechannel.bin'))));
const hyper = readWeights(new Uint8Array(readFileSync(repoPath('weights/test-tiny-hyper.bin'))));

/**
 * ẑ's centres as a decoder gets them from the symbols alone: c_z's, then the later passes, which take c_z's output
 * (and the spacechannel's k_o the others pass's) from the passes before or (`kept` false: a large image's paths)
 * compute them again, from f₈ cropped from ŷ's head or (`kept` 'none') computed again too.
 */
function decoderCenters(w: Weights, y: Latent, z: Latent, level: number, bandRows?: number, kept: 'context' | 'head' | 'none' = 'context'): Latent {
  const again: Latent = { c: z.c, h: z.h, w: z.w, symbols: z.symbols };
  const yAgain: Latent = { ...y, head: undefined };
  withCenters(again, residualCenters(yAgain, w, level, bandRows, kept === 'context'));
  assert.ok(yAgain.head, 'the first pass keeps f₈ of a small image');
  assert.is(again.context !== undefined, kept === 'context');
  if (kept === 'none') delete yAgain.head;
  laterPassCenters({ y: yAgain, z: again }, 'z', w, level, bandRows);
  return again;
}

test('the checkerboard test weights: kind, widths, and the spatial context s_z, e_z', () => {
  assert.equal(w.config, { kind: 'checkerboard', N: 8, M: 16, Nr: 8, Mr: 8, levels: 2, Nh: 8 });
  const { spatial, params } = w.hyper!.resSpatial!;
  assert.equal([spatial.inC, spatial.outC, spatial.k], [8, 8, 5]);
  assert.equal(params.map((p) => [p.inC, p.outC, p.k]), [[2 * 8 + 8, 16, 1], [16, 16, 1]]);
  assert.is(hyper.hyper!.resSpatial, undefined, 'the hyper kind has none');
  assert.is(w.hyper!.resChannel, undefined, 'the checkerboard kind has no channel context');
  // ẑ has two sets of groups (anchors, others): 1 of ŵ, 1 of ŷ, 1 + 1 of ẑ at these widths, chained in one stream
  assert.is(fileGroups(w).length, 4);
  assert.is(fileGroups(hyper).length, 3);
  assert.equal(fileChains(w), [[0, 1, 2, 3]]);
  assert.equal(fileChains(w, 1), [[0], [1], [2], [3]], 'version 1: one group a stream');
});

test('the spacechannel test weights: the checkerboard\'s, and the channel contexts k_a, k_o; ẑ in four sets of groups', () => {
  assert.equal(spacechannel.config, { ...w.config, kind: 'spacechannel' });
  for (const net of [spacechannel.hyper!.resChannel!.anchors, spacechannel.hyper!.resChannel!.others]) {
    assert.equal(net.map((p) => [p.inC, p.outC, p.k]), [[4 + 8, 8, 3], [8, 8, 1]]);
  }
  assert.ok(spacechannel.hyper!.resSpatial);
  // ẑ's anchors' and others' halves: 1 of ŵ, 1 of ŷ, 4 of ẑ (4 channels each) at these widths
  assert.is(fileGroups(spacechannel).length, 6);
});

test('its Gaussian tables, stored rows back to back (no padding), read as the hyper kind\'s padded ones', () => {
  const [g, h] = [w.hyper!.gaussian, hyper.hyper!.gaussian];
  assert.equal([g.sets[0]!.channels, g.sets[0]!.stride], [h.sets[0]!.channels, h.sets[0]!.stride]);
  assert.equal(g.scales, h.scales);
  assert.equal(g.sets[0]!.length, h.sets[0]!.length);
  assert.equal(g.sets[0]!.offset, h.sets[0]!.offset);
  assert.equal(g.sets[0]!.cdf, h.sets[0]!.cdf);
  const bytes = new Uint8Array(readFileSync(repoPath('weights/test-tiny-checkerboard.bin')));
  assert.ok(bytes.length < readFileSync(repoPath('weights/test-tiny-hyper.bin')).length - 600_000, 'the padding is gone');
  // a row length the stride cannot hold is refused before the rows are read
  const lengths = new Int32Array(bytes.buffer, w.hyper!.gaussian.sets[0]!.length.byteOffset, 1);
  const damaged = bytes.slice();
  new Int32Array(damaged.buffer, lengths.byteOffset, 1)[0] = g.sets[0]!.stride - 1;
  failsWith('BAD_WEIGHTS', () => readWeights(damaged, 'verified'), /gaussian.cdf row 0: table length \d+/);
});

test('anchors (row + column even) and the others partition every plane, in raster order', () => {
  for (const [h, wd] of [[1, 1], [1, 2], [2, 1], [3, 5], [4, 4], [7, 6]]) {
    const anchors = partPositions(h, wd, 'anchors')!;
    const others = partPositions(h, wd, 'others')!;
    assert.is(partPositions(h, wd, 'all'), undefined);
    const seen = new Array(h * wd).fill(0);
    for (const p of anchors) { assert.is((Math.floor(p / wd) + (p % wd)) % 2, 0, `anchor ${p}`); seen[p]++; }
    for (const p of others) { assert.is((Math.floor(p / wd) + (p % wd)) % 2, 1, `other ${p}`); seen[p]++; }
    assert.ok(seen.every((n) => n === 1), `${h}×${wd}: each element once`);
    for (const list of [anchors, others]) for (let i = 1; i < list.length; i++) assert.ok(list[i] > list[i - 1]);
  }
});

test('the symbol coder codes exactly the positions it is given, and refuses positions out of order', () => {
  const [h, wd, channels] = [5, 7, 3];
  const symbols = Int32Array.from({ length: channels * h * wd }, (_, i) => (i * 7) % 5 - 2);
  const tables = w.hyper!.gaussian.sets[0]!;
  const indexes = Uint8Array.from({ length: symbols.length }, (_, i) => i % tables.channels);
  const out = new Int32Array(symbols.length).fill(99);
  for (const part of ['anchors', 'others'] as const) {
    const positions = partPositions(h, wd, part)!;
    const bytes = encodeChannels(symbols, h * wd, 0, channels, tables, indexes, positions);
    assert.ok(decodeChannels(bytes, h * wd, 0, channels, tables, out, indexes, positions));
  }
  assert.equal(out, symbols, 'both parts together give every symbol');
  const anchorsOnly = new Int32Array(symbols.length).fill(99);
  decodeChannels(encodeChannels(symbols, h * wd, 0, channels, tables, indexes, partPositions(h, wd, 'anchors')), h * wd, 0, channels, tables,
    anchorsOnly, indexes, partPositions(h, wd, 'anchors'));
  for (let i = 0; i < symbols.length; i++) {
    const p = i % (h * wd);
    assert.is(anchorsOnly[i], (Math.floor(p / wd) + (p % wd)) % 2 === 0 ? symbols[i] : 99, `element ${i}`);
  }
  failsWith('INTERNAL', () => encodeChannels(symbols, h * wd, 0, channels, tables, indexes, Uint32Array.of(3, 1)), /positions must increase/);
  failsWith('INTERNAL', () => encodeChannels(symbols, h * wd, 0, channels, tables, indexes, Uint32Array.of(0, h * wd)), /positions must increase/);
});

test('the spatial context moves the non-anchors\' priors and leaves the anchors\' as c_z gives them', () => {
  const img = syntheticImage(100, 70, 3);
  const { y, z } = encodeLatents(img, w, 1);
  const firstPass = residualCenters({ ...y, head: undefined }, w, 1) as { means: Float32Array; indexes: Uint8Array };
  const anchors = partPositions(z.h, z.w, 'anchors')!;
  const others = partPositions(z.h, z.w, 'others')!;
  const plane = z.h * z.w;
  let moved = 0;
  for (let c = 0; c < z.c; c++) {
    for (const p of anchors) assert.is(z.means![c * plane + p], firstPass.means[c * plane + p]);
    for (const p of others) if (z.means![c * plane + p] !== firstPass.means[c * plane + p]) moved++;
  }
  assert.ok(moved > 0.9 * z.c * others.length, `${moved} of ${z.c * others.length} non-anchor means moved`);
});

test('the channel contexts move the second half\'s priors at the anchors (k_a) and at the others (k_o), not the first half\'s', () => {
  const w = spacechannel;
  const img = syntheticImage(100, 70, 3);
  const { y, z } = encodeLatents(img, w, 1);
  const plane = z.h * z.w;
  const half = z.c / 2;
  // the centres of ẑ's symbols after the first pass, and after each of the later ones
  const partial: Latent = { c: z.c, h: z.h, w: z.w, symbols: z.symbols };
  const yAgain = { ...y, head: undefined };
  withCenters(partial, residualCenters(yAgain, w, 1));
  const after: Record<string, Float32Array> = { residual: partial.means!.slice() };
  for (const kind of ['anchorChannels', 'others', 'otherChannels'] satisfies PassKind[]) {
    const pass = startPass(kind, { y: yAgain, z: partial }, w);
    for (const rows of pass.bands) priorBand(pass, { y: yAgain, z: partial }, w, 1, rows);
    finishPass(pass, { y: yAgain, z: partial });
    after[kind] = partial.means!.slice();
  }
  assert.equal(after.otherChannels, z.means, 'the passes in turn give the encoder\'s means');
  const moved = (part: 'anchors' | 'others', channels: [number, number], from: string, to: string): number => {
    let n = 0;
    for (let c = channels[0]; c < channels[1]; c++) for (const p of partPositions(z.h, z.w, part)!) if (after[from][c * plane + p] !== after[to][c * plane + p]) n++;
    return n / ((channels[1] - channels[0]) * partPositions(z.h, z.w, part)!.length);
  };
  assert.is(moved('anchors', [0, half], 'residual', 'otherChannels'), 0, 'the anchors\' first half keeps c_z\'s');
  assert.ok(moved('anchors', [half, z.c], 'residual', 'anchorChannels') > 0.9, 'k_a moves the anchors\' second half');
  assert.ok(moved('others', [0, half], 'anchorChannels', 'others') > 0.9, 's_z, e_z move the others\' first half');
  assert.is(moved('others', [0, half], 'others', 'otherChannels'), 0, 'k_o leaves it');
  assert.ok(moved('others', [half, z.c], 'others', 'otherChannels') > 0.9, 'k_o moves the others\' second half');
  assert.is(moved('anchors', [0, z.c], 'anchorChannels', 'otherChannels'), 0, 'the later passes leave the anchors');
});

for (const w of [checkerboard, spacechannel]) {
  test(`${w.config.kind}: the decoder rebuilds the encoder’s ẑ means and indexes from the symbols alone, in bands of any height`, () => {
    for (const [width, height, level] of [[37, 29, 0], [100, 70, 1], [1, 1, 1], [130, 20, 0], [24, 200, 1]] as const) {
      const img = syntheticImage(width, height, width + height);
      const latents = encodeLatents(img, w, level);
      const { y, z, hyper: h } = latents;
      const fromHyper = mainCenters(h!, w, level, y) as { means: Float32Array; indexes: Uint8Array };
      assert.equal(fromHyper.means, y.means, 'ŷ means');
      for (const [bandRows, kept] of [[undefined, 'context'], [1, 'head'], [2, 'none'], [3, 'context'], [5, 'none'], [undefined, 'head']] as const) {
        const again = decoderCenters(w, y, z, level, bandRows, kept);
        assert.is(again.context, undefined, 'the last pass drops the kept context');
        const what = `${width}×${height} ẑ, bands of ${bandRows ?? 'default'}, kept: ${kept}`;
        assert.equal(again.means, z.means, `${what}: means`);
        assert.equal(again.indexes, z.indexes, `${what}: indexes`);
      }
      const file = encodeSync(img, w, { level });
      const expected = { width, height, data: new Uint8Array(width * height * 3) };
      for (const region of decodeTiles(y)) decodeTile(expected, latents, w, level, region);
      assert.equal(decodeSync(file, w).data, expected.data, `${width}×${height}: the file decodes to the encoder's own x̂`);
    }
  });

  test(`${w.config.kind}: ẑ's second stream coded in place of its first (a CRC-valid version-1 file) is CORRUPT or other pixels`, () => {
    const img = syntheticImage(100, 70, 9);
    const bytes = version1File(img, w, 1);
    const file = readContainer(bytes);
    const good = decodeSync(bytes, w).data;
    const streams = [...file.streams];
    [streams[2], streams[3]] = [streams[3], streams[2]];
    const forged = writeContainer({ ...file, streams });
    try {
      assert.not.equal(decodeSync(forged, w).data, good);
    } catch (e) {
      assert.is((e as { code?: string }).code, 'CORRUPT');
    }
  });
}

test.run();
