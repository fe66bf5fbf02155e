import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { bdRate, type RdPoint } from '../src/eval/bd-rate.js';
import { SYSTEM_TOOLS_REQUIRED } from './helpers/system-tools.js';
import { CLASSIC_CODECS, isInstalled, readPpm, writePpm } from '../src/eval/classic-codecs.js';
import { loadWeightFile } from '../src/io/weight-files.js';
import { evalCommand } from '../src/eval/eval.js';
import { PUBLISHED_CURVES, renderRdSvg, type RdCurve } from '../src/eval/eval-plot.js';
import { averageOf, renderCompareHtml, renderMarkdown, type EvalResult, type Measurement } from '../src/eval/eval-report.js';
import { decodeSync, encodeSync } from '../src/codec/codec.js';
import { msSsim } from '../src/eval/metrics.js';
import { encodePng } from '../src/io/image-io.js';
import type { RgbImage } from '../src/io/pixels.js';
import { mulberry32 } from './helpers/prng.js';

test('PPM: what we write reads back, comments in the header included', () => {
  const image: RgbImage = { width: 3, height: 2, data: Uint8Array.from({ length: 18 }, (_, i) => i * 13) };
  assert.equal(readPpm(writePpm(image)), image);
  const commented = new Uint8Array([...new TextEncoder().encode('P6\n# OpenJPEG-2.5.0\n3 2\n255\n'), ...image.data]);
  assert.equal(readPpm(commented), image);
  assert.throws(() => readPpm(new TextEncoder().encode('P5\n3 2\n255\n')));
  assert.throws(() => readPpm(writePpm(image).subarray(0, 20)));
});

/** Synthetic results for the renderers: a log-shaped curve per codec. */
function syntheticResult(codecNames: string[]): EvalResult {
  const images = ['one', 'two'];
  const codecs = codecNames.map((codec, c) => ({
    codec,
    command: `${codec} --quality Q`,
    version: '1.0',
    settings: [0, 1, 2, 3].map((s) => {
      const measurements: Measurement[] = images.map((image, i) => {
        const bpp = 0.1 * 2 ** s * (1 + 0.1 * i);
        return { image, bytes: 100 * (s + 1), bpp, psnr: 30 + 4 * Math.log2(bpp / 0.1) - c, msSsim: 1 - 0.08 / 2 ** s, encodeSeconds: 0.01, decodeSeconds: 0.02 };
      });
      return { setting: `q ${s}`, average: averageOf(measurements), images: measurements };
    }),
  }));
  return {
    date: '2025-01-01T00:00:00.000Z',
    machine: { cpu: 'test cpu', cores: 2, node: 'v20', os: 'linux' },
    weights: { idHex: 'ab'.repeat(32), levels: 4 },
    dataset: { dir: 'images', quick: false, crop: null, images: images.map((name) => ({ name, width: 64, height: 48 })) },
    codecs,
    skipped: [{ codec: 'AVIF', reason: 'avifenc not found' }],
    bdRate: codecNames.slice(1).map((anchor) => ({ anchor, published: false, psnr: -12.5, msSsimDb: null })),
  };
}

/** Tags open and close in order (a small well-formedness check; Node has no XML parser). */
function assertBalancedTags(markup: string): void {
  const stack: string[] = [];
  for (const [tag] of markup.matchAll(/<[^>]+>/g)) {
    if (/^<[?!]/.test(tag) || tag.endsWith('/>')) continue;
    const name = /^<\/?([\w:-]+)/.exec(tag)![1];
    if (tag.startsWith('</')) assert.is(stack.pop(), name, `closing ${tag}`);
    else if (!['meta', 'img', 'input', 'br'].includes(name)) stack.push(name);
  }
  assert.equal(stack, []);
}

test('rd.svg: well formed, both panels, every codec and reference named, no NaN', () => {
  const names = ['aara', 'JPEG', 'JPEG 2000', 'WebP', 'AVIF'];
  const result = syntheticResult(names);
  const curves: RdCurve[] = result.codecs.map((c) => ({ name: c.codec, points: c.settings.map((s) => s.average) }));
  const svg = renderRdSvg(curves, 'test <plot> & more');
  assert.ok(svg.startsWith('<?xml') && svg.includes('<svg xmlns="http://www.w3.org/2000/svg"'));
  assertBalancedTags(svg);
  for (const name of [...names, ...PUBLISHED_CURVES.map((r) => r.name)]) assert.ok(svg.includes(`>${name}`), name);
  assert.ok(svg.includes('test &#60;plot&#62; &#38; more'));
  assert.ok(svg.includes('PSNR [dB]') && svg.includes('MS-SSIM [dB]'));
  assert.not.ok(/NaN|Infinity|undefined/.test(svg));
});

test('eval.md: every codec, the BD-rate table and the skipped codec', () => {
  const md = renderMarkdown(syntheticResult(['aara', 'JPEG', 'WebP']));
  for (const name of ['### aara', '### JPEG', '### WebP', '| JPEG ', '-12.5 %', 'AVIF: avifenc not found', '## aara per image']) {
    assert.ok(md.includes(name), name);
  }
  assert.not.ok(/NaN|undefined/.test(md));
});

test('compare.html: well formed, images embedded as PNG data URIs', () => {
  const png = encodePng({ width: 2, height: 2, data: new Uint8Array(12) });
  const html = renderCompareHtml([{
    image: 'kodim01',
    crop: { left: 10, top: 20, width: 2, height: 2 },
    tiles: [{ codec: 'original', setting: '', png }, { codec: 'aara', setting: 'level 1', png, bpp: 0.25, psnr: 30, cropPsnr: 29 }],
  }], 'crops');
  assertBalancedTags(html);
  assert.is(html.match(/src="data:image\/png;base64,/g)?.length, 2);
  assert.ok(html.includes('0.250 bpp · 30.00 dB'));
});

/** Smooth colours plus a little noise, so every codec has something to code. */
function syntheticImage(width: number, height: number, seed: number): RgbImage {
  const rng = mulberry32(seed);
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        const smooth = 128 + 90 * Math.sin(x / (5 + c + seed) + y / 11) * Math.cos(y / (7 + seed) - c);
        data[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(smooth + 12 * (rng() - 0.5))));
      }
    }
  }
  return { width, height, data };
}

test('aara eval --quick end to end on two small images', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aara-eval-test-'));
  const tempDirsBefore = readdirSync(tmpdir()).filter((name) => name.startsWith('aara-eval-') && !name.startsWith('aara-eval-test-'));
  try {
    const images = { a: syntheticImage(64, 48, 1), b: syntheticImage(64, 48, 2) };
    writeFileSync(join(dir, 'b.png'), encodePng(images.b));
    writeFileSync(join(dir, 'a.png'), encodePng(images.a));
    writeFileSync(join(dir, 'notes.txt'), 'not an image');
    const out = join(dir, 'results');
    await evalCommand({ inputs: [dir], out, quick: true, quiet: true, json: false });
    const result = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as EvalResult;
    assert.equal(result.dataset.images.map((i) => i.name), ['a', 'b']);
    assert.is(result.weights.idHex, loadWeightFile().weights.idHex);
    const aara = result.codecs.find((c) => c.codec === 'aara')!;
    const last = result.weights.levels - 1;
    assert.equal(aara.settings.map((s) => s.setting), [...new Set([0, Math.round(last / 2), last])].map((l) => `level ${l}`));
    // aara's numbers again, independently: the file the codec writes, PSNR by its definition
    const weights = loadWeightFile().weights;
    for (const s of aara.settings) {
      const level = Number(s.setting.replace('level ', ''));
      s.images.forEach((m, i) => {
        const img = [images.a, images.b][i];
        const file = encodeSync(img, weights, { level });
        const decoded = decodeSync(file, weights).data;
        let se = 0;
        for (let k = 0; k < img.data.length; k++) se += (img.data[k] - decoded[k]) ** 2;
        assert.is(m.bpp, (8 * file.length) / (64 * 48), `${s.setting} bpp`);
        assert.ok(Math.abs(m.psnr - 10 * Math.log10((255 * 255 * img.data.length) / se)) < 1e-9, `${s.setting} PSNR`);
        // MS-SSIM of this very pair (metrics.ts is checked against the Python trainer's values in metrics.test.ts)
        assert.ok(Math.abs(m.msSsim - msSsim(img, { ...img, data: decoded })) < 1e-12, `${s.setting} MS-SSIM`);
      });
    }
    // BD-rate rows: the anchor is the other codec, aara the test curve (positive = aara needs more bits)
    for (const row of result.bdRate) {
      const anchor = result.codecs.find((c) => c.codec === row.anchor)!;
      const points = (c: typeof anchor): RdPoint[] => c.settings.map((s) => ({ rate: s.average.bpp, quality: s.average.psnr }));
      assert.is(row.psnr, bdRate(points(anchor), points(aara)) ?? null, row.anchor);
    }
    for (const codec of result.codecs) {
      for (const s of codec.settings) {
        assert.is(s.images.length, 2);
        for (const m of s.images) assert.ok(m.bpp > 0 && Number.isFinite(m.psnr) && m.msSsim > 0 && m.msSsim <= 1, `${codec.codec} ${s.setting}`);
        // the averages are the means of the per-image values
        for (const key of ['bpp', 'psnr', 'msSsim'] as const) {
          assert.ok(Math.abs(s.average[key] - (s.images[0][key] + s.images[1][key]) / 2) < 1e-12, `${codec.codec} ${s.setting} mean ${key}`);
        }
      }
    }
    for (const codec of CLASSIC_CODECS) {
      const installed = isInstalled(codec.encoder) && isInstalled(codec.decoder);
      if (SYSTEM_TOOLS_REQUIRED) assert.ok(installed, `${codec.encoder}/${codec.decoder} missing, and AARA_REQUIRE_SYSTEM_TOOLS=1 requires them`);
      if (!installed) console.log(`skipped: eval of ${codec.name} (${codec.encoder} is not installed; the test checks it is reported skipped)`);
      const measured = result.codecs.find((c) => c.codec === codec.name);
      assert.is(Boolean(measured), installed, codec.name);
      if (measured) assert.is(measured.settings.length, 3);
      if (!installed) assert.ok(result.skipped.some((s) => s.codec === codec.name));
    }
    assert.is(result.bdRate.length, result.codecs.length - 1);
    for (const file of ['eval.md', 'rd.svg', 'compare.html']) assert.ok(existsSync(join(out, file)), file);
    const tempDirsAfter = readdirSync(tmpdir()).filter((name) => name.startsWith('aara-eval-') && !name.startsWith('aara-eval-test-'));
    assert.equal(tempDirsAfter, tempDirsBefore, 'the private temp folder is removed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('aara eval: a classic codec whose tool fails is dropped with its stderr, the rest is measured', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'aara-eval-test-'));
  const path = process.env.PATH;
  try {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    // a broken JPEG install: both tools exist, the encoder fails on every setting (they run side by side)
    for (const tool of ['cjpeg', 'djpeg']) {
      writeFileSync(join(bin, tool), `#!/bin/sh\necho "fake ${tool} broke" >&2\nexit 3\n`);
      chmodSync(join(bin, tool), 0o755);
    }
    process.env.PATH = `${bin}${delimiter}${path ?? ''}`;
    writeFileSync(join(dir, 'a.png'), encodePng(syntheticImage(48, 32, 3)));
    writeFileSync(join(dir, 'b.png'), encodePng(syntheticImage(48, 32, 4)));
    const out = join(dir, 'results');
    await evalCommand({ inputs: [dir], out, quick: true, quiet: true, json: false, levels: [0] });
    const result = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8')) as EvalResult;
    assert.not.ok(result.codecs.some((c) => c.codec === 'JPEG'));
    const dropped = result.skipped.filter((s) => s.codec === 'JPEG');
    assert.is(dropped.length, 1);
    assert.match(dropped[0].reason, /cjpeg .* failed \(exit status 3\): fake cjpeg broke/);
    const aara = result.codecs.find((c) => c.codec === 'aara')!;
    assert.equal(aara.settings.map((s) => s.images.length), [2]);
    for (const codec of CLASSIC_CODECS.filter((c) => c.name !== 'JPEG')) {
      const installed = isInstalled(codec.encoder) && isInstalled(codec.decoder);
      assert.is(result.codecs.some((c) => c.codec === codec.name), installed, codec.name);
    }
    for (const codec of result.codecs) for (const s of codec.settings) assert.is(s.images.length, 2, `${codec.codec} ${s.setting}`);
  } finally {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
