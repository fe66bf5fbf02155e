/**
 * A 768×512 Kodak image round-trips through the CLI with the shipped weights: the file's size is what the
 * CLI reports, the decoded PNG is the image the library decodes, and its quality is that of a real codec.
 * Reads ../shared/datasets/kodak/kodim23.png (the project's evaluation data, beside the repo in CI).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeImage } from '../src/io/image-io.js';
import { psnr } from '../src/eval/metrics.js';
import { repoPath } from './helpers/fixtures.js';

const KODAK = repoPath('../shared/datasets/kodak/kodim23.png');

test('kodim23 (768×512) → .aara → PNG through the CLI, 2 threads, level 2, --psnr', () => {
  assert.ok(existsSync(KODAK), `evaluation image missing: ${KODAK} (../shared must be beside the repo)`);
  const dir = mkdtempSync(join(tmpdir(), 'aara-kodak-'));
  try {
    const file = join(dir, 'k.aara');
    const png = join(dir, 'k.png');
    const cli = repoPath('dist/cli.js');
    const report = JSON.parse(execFileSync(process.execPath, [cli, 'encode', KODAK, '-o', file, '--level', '2', '--threads', '2', '--json', '--psnr'], { encoding: 'utf8' })) as
      { width: number; height: number; bytes: number; bpp: number; psnr: number };
    assert.equal([report.width, report.height], [768, 512]);
    assert.is(report.bytes, statSync(file).size);
    assert.ok(Math.abs(report.bpp - (8 * report.bytes) / (768 * 512)) < 1e-12);
    execFileSync(process.execPath, [cli, 'decode', file, '-o', png, '--threads', '2', '--quiet']);
    const original = decodeImage(new Uint8Array(readFileSync(KODAK)));
    const decoded = decodeImage(new Uint8Array(readFileSync(png)));
    assert.equal([decoded.width, decoded.height], [768, 512]);
    const quality = psnr(original.data, decoded.data);
    assert.ok(Math.abs(quality - report.psnr) < 1e-9, 'the PSNR printed at encode is that of the decoded file');
    // level 2 of the shipped weights (λ = 0.0018): 0.175 bpp and 31.2 dB on this image (bench/eval-kodak.json)
    assert.ok(report.bpp > 0.05 && report.bpp < 0.5, `bpp ${report.bpp}`);
    assert.ok(quality > 29, `PSNR ${quality}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
