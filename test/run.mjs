// Runs every compiled uvu suite (dist/test/*.test.js) and ends with one line "N passed, N failed".
// Fails when a suite fails, when a suite crashes, or when no test ran at all.
import { spawnSync } from 'node:child_process';
import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = 'dist/test';
if (!existsSync(dir)) {
  console.error('test/run.mjs: dist/test is missing; run `npm run build` first');
  process.exit(1);
}
const only = process.argv[2];
const files = readdirSync(dir).filter((f) => f.endsWith('.test.js') && (!only || f.includes(only))).sort();
let passed = 0;
let failed = 0;
let skipped = 0;
const reasons = [];
for (const file of files) {
  const run = spawnSync(process.execPath, [join(dir, file)], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  const out = (run.stdout ?? '') + (run.stderr ?? '');
  const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  // uvu's test.skip: not in Total; a suite says why on a line "skipped: <reason>" (test/helpers/system-tools.ts)
  const skips = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
  passed += ok;
  failed += total - ok;
  skipped += skips;
  for (const [, reason] of out.matchAll(/^skipped: (.*)$/gm)) reasons.push(`${file}: ${reason}`);
  if (run.status !== 0 || total !== ok || total + skips === 0) {
    if (total === ok) failed += 1; // a crash before uvu's summary counts as one failure
    process.stdout.write(out);
    console.log(`FAIL ${file}`);
  } else {
    console.log(`ok   ${file} (${ok}${skips ? `, ${skips} skipped` : ''})`);
  }
}
for (const reason of reasons) console.log(`skipped ${reason}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
