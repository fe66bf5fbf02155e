// Runs every compiled uvu suite (dist/test/*.test.js) and ends with one line "N passed, N failed" (", K skipped"
// when tests were skipped, each with its reason). Fails when a suite fails, crashes or outlives SUITE_TIMEOUT_MS,
// when a filter matches no suite, when no test ran at all, when a suite skips a test without saying why (a leftover
// test.only or test.skip: uvu reports what .only leaves out as skipped), and, where AARA_REQUIRE_SYSTEM_TOOLS=1
// (CI), when anything was skipped.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = 'dist/test';
if (!existsSync(dir)) {
  console.error('test/run.mjs: dist/test is missing; run `npm run build` first');
  process.exit(1);
}
/** The slowest suite (parallel) takes ≈ 30 s on 2 busy cores: 10 minutes means a hang (a leftover timer, a worker). */
const SUITE_TIMEOUT_MS = 10 * 60 * 1000;
const only = process.argv[2];
const requireAll = process.env.AARA_REQUIRE_SYSTEM_TOOLS === '1';
const files = readdirSync(dir).filter((f) => f.endsWith('.test.js') && (!only || f.includes(only))).sort();
if (files.length === 0) {
  console.error(`test/run.mjs: no suite in ${dir} matches ${JSON.stringify(only)}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
let passed = 0;
let failed = 0;
let skipped = 0;
const reasons = [];
for (const file of files) {
  const run = spawnSync(process.execPath, [join(dir, file)], {
    encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, timeout: SUITE_TIMEOUT_MS, killSignal: 'SIGKILL',
  });
  const timedOut = run.error?.code === 'ETIMEDOUT';
  const out = (run.stdout ?? '') + (run.stderr ?? '') + (timedOut ? `\n${file} still running after ${SUITE_TIMEOUT_MS / 1000} s: killed\n` : '');
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  // uvu's test.skip: not in Total; a suite says why on a line "skipped: <reason>" (test/helpers/system-tools.ts)
  const skips = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  passed += ok;
  failed += total - ok;
  skipped += skips;
  const said = [...out.matchAll(/^skipped: (.*)$/gm)].map(([, reason]) => reason);
  for (const reason of said) reasons.push(`${file}: ${reason}`);
  const unexplained = skips > said.length ? `${skips - said.length} test(s) skipped without a reason: a leftover test.only or test.skip?` : '';
  const required = skips > 0 && requireAll ? `${skips} test(s) skipped, and AARA_REQUIRE_SYSTEM_TOOLS=1 requires every test to run` : '';
  if (run.status !== 0 || total !== ok || total + skips === 0 || unexplained || required) {
    if (total === ok) failed += 1; // a crash before uvu's summary, or a forbidden skip, counts as one failure
    for (const problem of [unexplained, required].filter(Boolean)) console.log(`${file}: ${problem}`);
    process.stdout.write(out);
    console.log(`FAIL ${file}`);
  } else {
    console.log(`ok   ${file} (${ok}${skips ? `, ${skips} skipped` : ''})`);
  }
}
for (const reason of reasons) console.log(`skipped ${reason}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
