/**
 * `npm pack` gives a tarball that installs in an empty folder, whose CLI and library API work there,
 * and which ships dist/ and the weights only.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodePng } from '../src/io/image-io.js';
import { repoPath } from './helpers/fixtures.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test('npm pack → install in an empty folder → CLI and API work', () => {
  const dir = mkdtempSync(join(tmpdir(), 'aara-pack-'));
  try {
    const packed = JSON.parse(execFileSync(npm, ['pack', '--json', '--pack-destination', dir], { cwd: repoPath(''), encoding: 'utf8' })) as
      { filename: string; size: number; files: { path: string }[] }[];
    const files = packed[0].files.map((f) => f.path);
    assert.ok(files.includes('weights/aara.bin'), 'weights shipped');
    assert.ok(files.includes('dist/cli.js') && files.includes('dist/src/index.js'), 'dist shipped');
    assert.ok(files.includes('dist/bundle/index.js') && files.includes('dist/bundle/worker.js'), 'the bundle (the package entry) and its worker shipped');
    assert.ok(files.includes('dist/src/browser/index.js') && files.includes('dist/src/browser/worker.js'), 'browser entry shipped');
    assert.ok(files.includes('LICENSE'), 'LICENSE shipped');
    const unexpected = files.filter((f) => !/^(dist\/(cli|src\/|kernels\/|bundle\/)|weights\/aara\.bin$|package\.json$|README\.md$|LICENSE$)/.test(f));
    assert.equal(unexpected, [], 'nothing but dist/, the weights and package metadata');
    console.log(`  tarball ${packed[0].filename}: ${(packed[0].size / 1e6).toFixed(2)} MB, ${files.length} files`);

    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', type: 'module', private: true }));
    execFileSync(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, packed[0].filename)], { cwd: app, stdio: 'pipe' });

    // a 40×24 gradient as PNG, through the installed CLI
    const data = new Uint8Array(40 * 24 * 3).map((_, i) => (i * 7) % 256);
    writeFileSync(join(app, 'in.png'), encodePng({ width: 40, height: 24, data }));
    const out = execFileSync(process.execPath, ['node_modules/aara/dist/cli.js', 'encode', 'in.png', '-o', 'in.aara', '--json', '--psnr'], { cwd: app, encoding: 'utf8' });
    const report = JSON.parse(out) as { bytes: number; psnr: number };
    assert.ok(report.bytes > 0 && Number.isFinite(report.psnr));
    execFileSync(process.execPath, ['node_modules/aara/dist/cli.js', 'decode', 'in.aara', '-o', 'out.png', '--quiet'], { cwd: app });

    // the library API, imported by package name
    writeFileSync(join(app, 'use.mjs'), `
      import { encodeSync, decodeSync } from 'aara';
      import { readFileSync } from 'node:fs';
      const file = encodeSync(new Uint8Array(readFileSync('in.png')), { level: 0 });
      const img = decodeSync(file);
      console.log(JSON.stringify({ bytes: file.length, width: img.width, height: img.height, pixels: img.data.length }));`);
    const api = JSON.parse(execFileSync(process.execPath, ['use.mjs'], { cwd: app, encoding: 'utf8' })) as Record<string, number>;
    assert.equal({ width: api.width, height: api.height, pixels: api.pixels }, { width: 40, height: 24, pixels: 40 * 24 * 3 });
    assert.ok(api.bytes > 0);
    assert.ok(readFileSync(join(app, 'out.png')).length > 0);

    // CommonJS: require('aara') (Node loads the ES module; ≥ 20.19) gives the same file
    writeFileSync(join(app, 'use.cjs'), `
      const { encodeSync } = require('aara');
      const { readFileSync } = require('node:fs');
      console.log(JSON.stringify({ bytes: encodeSync(new Uint8Array(readFileSync('in.png')), { level: 0 }).length }));`);
    const cjs = JSON.parse(execFileSync(process.execPath, ['use.cjs'], { cwd: app, encoding: 'utf8' })) as Record<string, number>;
    assert.is(cjs.bytes, api.bytes, 'require and import give the same file');

    // the browser entry by its package name, with the packaged weights as bytes: the Node entry's pixels, as RGBA
    writeFileSync(join(app, 'browser.mjs'), `
      import { readWeights, decode } from 'aara/browser';
      import { decodeSync } from 'aara';
      import { readFileSync } from 'node:fs';
      const file = new Uint8Array(readFileSync('in.aara'));
      const rgba = decode(file, readWeights(readFileSync('node_modules/aara/weights/aara.bin').buffer.slice(0)));
      const rgb = decodeSync(file).data;
      console.log(rgba.data.every((v, i) => (i % 4 === 3 ? v === 255 : v === rgb[i - (i >> 2)])) ? 'same' : 'different');`);
    assert.is(execFileSync(process.execPath, ['browser.mjs'], { cwd: app, encoding: 'utf8' }).trim(), 'same');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
