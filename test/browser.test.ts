/**
 * Decoding is deterministic across JavaScript engines: headless Chromium (V8) and Firefox (SpiderMonkey) decode the
 * golden files through the public browser entry (aara/browser; the compiled ES modules served as they are from a
 * local static server, no bundler), on the main thread and in Web Workers, and must get the hashes of golden.json. A browser that is not installed (or AARA_SKIP_BROWSER=1) is skipped, visibly; where
 * AARA_REQUIRE_SYSTEM_TOOLS=1 (CI), a missing browser is a failure.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { BrowserResult, EncodeInput, EncodeResult } from './browser/golden-page.js';
import { repoPath } from './helpers/fixtures.js';
import { GOLDEN_SETS, readGoldenManifest, SHIPPED_GOLDEN_DIR } from './golden/sources.js';
import { skipWithout } from './helpers/system-tools.js';

interface Browser {
  name: string;
  path: string;
  /** Debian's package */
  pkg: string;
  /** command line opening url headless in a fresh profile folder */
  args(profile: string, url: string): string[];
}

const BROWSERS: Browser[] = [
  {
    name: 'Chromium',
    path: '/usr/bin/chromium',
    pkg: 'chromium',
    args: (profile, url) => ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, url],
  },
  {
    name: 'Firefox',
    path: '/usr/bin/firefox-esr',
    pkg: 'firefox-esr',
    args: (profile, url) => ['--headless', '--no-remote', '--profile', profile, url],
  },
];
const TIMEOUT_MS = 120_000;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8', // module scripts need a JavaScript MIME type
  '.json': 'application/json',
};

interface PageReport {
  userAgent: string;
  results?: BrowserResult[];
  encoded?: EncodeResult[];
  error?: string;
  /** the example page's status text at the end, and after each file it decoded */
  status?: string;
  statuses?: string[];
}

/**
 * The reproducible image sources of every golden set: the page encodes them from RGBA and must give the committed
 * files. Not the gray PNGs: their files carry the "source was grayscale" flag, which pixels from a canvas cannot.
 */
const ENCODE_INPUTS: EncodeInput[] = GOLDEN_SETS.flatMap((set) => set.sources.filter((s) => s.reproducible && s.image).map((s) => {
  const img = s.image!();
  return { dir: set.dir, file: s.file, weights: set.weights, level: s.level, width: img.width, height: img.height,
    grayscale: img.grayscale, rgb: Buffer.from(img.data).toString('base64') };
})).filter((input) => !input.grayscale);

/** Serves the repository read-only on 127.0.0.1, and /golden-inputs.json; resolves with the page's POST to /result. */
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
    if (req.method === 'GET' && path === '/golden-inputs.json') {
      res.writeHead(200, { 'content-type': CONTENT_TYPES['.json'] }).end(JSON.stringify(ENCODE_INPUTS));
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

/** Opens `url` in a fresh headless browser; returns a function that ends it (its whole process group). */
function launch(browser: Browser, url: string): { stop: () => void; stderr: () => string } {
  const profile = mkdtempSync(join(tmpdir(), `aara-${browser.pkg}-`));
  const child = spawn(browser.path, browser.args(profile, url), { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
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

/** Serves the repository, opens `page` (a path with its query) in the browser and waits for the page's report. */
async function runPage(browser: Browser, page: string): Promise<{ report: PageReport; missing: string[] }> {
  const server = serveRepository();
  const running = launch(browser, `${await server.url}${page}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result after ${TIMEOUT_MS / 1000} s; ${browser.name} said:\n${running.stderr()}`)), TIMEOUT_MS);
  });
  try {
    return { report: await Promise.race([server.report, timeout]), missing: server.missing };
  } finally {
    clearTimeout(timer);
    running.stop();
    server.close();
  }
}

for (const browser of BROWSERS) {
  const name = `headless ${browser.name} decodes the golden files to the golden hashes`;
  const example = `headless ${browser.name} runs the example page (examples/browser): weights from a URL, the shipped golden files decoded in its Web Workers to their hashes`;
  if (process.env.AARA_SKIP_BROWSER === '1') {
    skipWithout(name, 'AARA_SKIP_BROWSER=1');
    skipWithout(example, 'AARA_SKIP_BROWSER=1');
  } else if (!existsSync(browser.path)) {
    skipWithout(name, `${browser.path} is not installed: apt-get install -y ${browser.pkg}`);
    skipWithout(example, `${browser.path} is not installed: apt-get install -y ${browser.pkg}`);
  } else {
    test(example, async () => {
      const [set] = GOLDEN_SETS.filter((s) => s.dir === SHIPPED_GOLDEN_DIR);
      const files = readGoldenManifest(set).files;
      const decode = files.map((f) => `decode=/${set.dir}/${f.file}`).join('&');
      const { report, missing } = await runPage(browser, `/examples/browser/index.html?weights=/${set.weights}&${decode}&report=/result`);
      assert.is(report.statuses?.length, files.length, `${report.status} (not served: ${missing.join(', ') || 'none'})`);
      files.forEach((golden, i) => {
        const status = report.statuses![i];
        console.log(status.split('\n')[0]);
        assert.match(status, `/${set.dir}/${golden.file}: ${golden.width}×${golden.height}, decoded in`);
        assert.match(status, `SHA-256 of the RGB pixels: ${golden.sha256} `, golden.file);
      });
    });
    test(name, async () => {
      console.log(execFileSync(browser.path, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
      const sets = GOLDEN_SETS.map((set) => `set=${encodeURIComponent(set.dir)}`).join('&');
      const { report, missing } = await runPage(browser, `/test/browser/golden.html?${sets}`);
      console.log(report.userAgent);
      assert.is(report.error, undefined, `${report.error}\nnot served: ${missing.join(', ') || 'none'}`);
      const byFile = new Map(report.results!.map((r) => [r.file, r]));
      for (const set of GOLDEN_SETS) {
        for (const expected of readGoldenManifest(set).files) {
          const file = `${set.dir}/${expected.file}`;
          const got = byFile.get(file);
          assert.ok(got, `${file} was not decoded`);
          assert.equal([got.width, got.height, got.sha256, got.workerSha256], [expected.width, expected.height, expected.sha256, expected.sha256], file);
          console.log(`${file}: same pixels (${got.ms.toFixed(0)} ms)`);
        }
      }
      const encoded = new Map(report.encoded!.map((r) => [r.file, r]));
      assert.ok(ENCODE_INPUTS.length > 0);
      for (const input of ENCODE_INPUTS) {
        const file = `${input.dir}/${input.file}`;
        const committed = createHash('sha256').update(readFileSync(repoPath(file))).digest('hex');
        assert.is(encoded.get(file)?.sha256, committed, `${file}: ${browser.name} encodes other bytes than Node`);
        assert.is(encoded.get(file)?.workerSha256, committed, `${file}: ${browser.name}'s Web Worker encodes other bytes than Node`);
      }
      console.log(`${ENCODE_INPUTS.length} image sources encoded to the committed bytes`);
    });
  }
}

test.run();
