/**
 * Decoding is deterministic across JavaScript engines: headless Chromium decodes the golden files with the compiled
 * ES modules (served as they are from a local static server, no bundler) and must get the hashes of golden.json.
 * Without /usr/bin/chromium (or with AARA_SKIP_BROWSER=1) it is skipped, visibly; where AARA_REQUIRE_SYSTEM_TOOLS=1
 * (CI), a missing Chromium is a failure.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { BrowserResult } from './browser/golden-page.js';
import { repoPath } from './helpers/fixtures.js';
import { GOLDEN_SETS, readGoldenManifest } from './golden/sources.js';
import { skipWithout } from './helpers/system-tools.js';

const CHROMIUM = '/usr/bin/chromium';
const TIMEOUT_MS = 60_000;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', // module scripts need a JavaScript MIME type
  '.json': 'application/json',
};

interface PageReport {
  userAgent: string;
  results?: BrowserResult[];
  error?: string;
}

/** Serves the repository read-only on 127.0.0.1 and resolves with the page's POST to /result. */
function serveRepository(): { url: Promise<string>; report: Promise<PageReport>; missing: string[]; close: () => void } {
  const root = resolve(repoPath('.'));
  const missing: string[] = [];
  let resolveReport: (r: PageReport) => void;
  const report = new Promise<PageReport>((done) => (resolveReport = done));

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    if (req.method === 'POST' && path === '/result') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.end();
        resolveReport(JSON.parse(Buffer.concat(chunks).toString('utf8')) as PageReport);
      });
      return;
    }
    const file = normalize(join(root, path));
    if (req.method !== 'GET' || !file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
      missing.push(`${req.method} ${path}`);
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  const url = new Promise<string>((done) =>
    server.listen(0, '127.0.0.1', () => done(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
  return { url, report, missing, close: () => server.close() };
}

/** Opens `url` in a fresh headless Chromium; returns a function that ends it (its whole process group). */
function launchChromium(url: string): { stop: () => void; stderr: () => string } {
  const profile = mkdtempSync(join(tmpdir(), 'aara-chromium-'));
  const child = spawn(CHROMIUM, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, url,
  ], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  return {
    stop: () => {
      try {
        if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(profile, { recursive: true, force: true });
    },
    stderr: () => stderr,
  };
}

const NAME = 'headless Chromium decodes the golden files to the golden hashes';

if (process.env.AARA_SKIP_BROWSER === '1') {
  skipWithout(NAME, 'AARA_SKIP_BROWSER=1');
} else if (!existsSync(CHROMIUM)) {
  skipWithout(NAME, `${CHROMIUM} is not installed: apt-get install -y chromium`);
} else {
  test(NAME, async () => {
    console.log(execFileSync(CHROMIUM, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const server = serveRepository();
    const sets = GOLDEN_SETS.map((set) => `set=${encodeURIComponent(set.dir)}`).join('&');
    const chromium = launchChromium(`${await server.url}/test/browser/golden.html?${sets}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no result after ${TIMEOUT_MS / 1000} s; Chromium said:\n${chromium.stderr()}`)), TIMEOUT_MS);
    });
    let report: PageReport;
    try {
      report = await Promise.race([server.report, timeout]);
    } finally {
      clearTimeout(timer);
      chromium.stop();
      server.close();
    }
    console.log(report.userAgent);
    assert.is(report.error, undefined, `${report.error}\nnot served: ${server.missing.join(', ') || 'none'}`);
    const byFile = new Map(report.results!.map((r) => [r.file, r]));
    for (const set of GOLDEN_SETS) {
      for (const expected of readGoldenManifest(set).files) {
        const name = `${set.dir}/${expected.file}`;
        const got = byFile.get(name);
        assert.ok(got, `${name} was not decoded`);
        assert.equal([got.width, got.height, got.sha256], [expected.width, expected.height, expected.sha256], name);
        console.log(`${name}: same pixels (${got.ms.toFixed(0)} ms)`);
      }
    }
  });
}

test.run();
