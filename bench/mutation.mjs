// Mutation testing (issue 20): StrykerJS changes the code users' numbers come from — metrics, BD-rate, the eval's
// averages, the container, the symbol coder, rANS, the weight reader — one small change at a time, and runs the
// tests of that module against each change. A change the tests do not notice ("survived") is a claim they do not
// protect. Not part of CI (≈ 15 min on one core). Run after `npm run build`:
//   npm run mutation            all groups          npm run mutation -- rans   one group
// It mutates the compiled JavaScript in dist/ (what runs; tsc keeps the source's statements and lines), so no
// build runs per mutant. Reports: results/mutation/<group>.json (Stryker's JSON) and a summary on stdout.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STRYKER = '@stryker-mutator/core@9.6.1'; // 9.x: the last major that runs on Node 20 (10.x needs Node 22)
const OUT = 'results/mutation';

/** Each group: the files mutated (dist/, optionally `:from-to` lines) and the fast test files that guard them. */
const GROUPS = {
  metrics: { mutate: ['dist/src/eval/metrics.js'], tests: ['metrics'] },
  'bd-rate': { mutate: ['dist/src/eval/bd-rate.js', rangeOf('dist/src/eval/eval-report.js', 'export function averageOf', '\n}\n')], tests: ['bd-rate'] },
  container: { mutate: ['dist/src/format/container.js'], tests: ['container'] },
  rans: { mutate: ['dist/src/entropy/rans.js', 'dist/src/entropy/symbol-coder.js'], tests: ['rans', 'checkerboard'] },
  weights: { mutate: ['dist/src/format/weights.js'], tests: ['weights', 'hyper', 'checkerboard'] },
};

/** `file:from-to`, the lines of one function (from the line holding `start` to the next `end`). */
function rangeOf(file, start, end) {
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(start);
  if (at < 0) throw new Error(`mutation.mjs: ${start} not found in ${file}`);
  const line = (offset) => text.slice(0, offset).split('\n').length;
  return `${file}:${line(at)}-${line(text.indexOf(end, at) + 1)}`;
}

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in GROUPS));
if (unknown.length > 0) {
  console.error(`mutation.mjs: no group ${unknown.join(', ')} (groups: ${Object.keys(GROUPS).join(', ')})`);
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });
const summary = [];
for (const [name, group] of Object.entries(GROUPS).filter(([n]) => names.length === 0 || names.includes(n))) {
  const config = {
    testRunner: 'command',
    commandRunner: { command: group.tests.map((t) => `node dist/test/${t}.test.js`).join(' && ') },
    mutate: group.mutate,
    coverageAnalysis: 'off',
    concurrency: 1,
    reporters: ['json', 'clear-text'],
    jsonReporter: { fileName: join(OUT, `${name}.json`) },
    clearTextReporter: { reportMutants: false, reportScoreTable: true },
    ignorePatterns: ['/train', '/results', '/bench', '/.git', '/src', '/kernels', '/test/*.ts', '/tsconfig.json'], // tests run from dist/
    tempDirName: '.tmp/stryker',
    cleanTempDir: true,
    timeoutMS: 10000,
    disableTypeChecks: false,
  };
  const configFile = join(OUT, `${name}.config.json`);
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  console.log(`\n== ${name}: ${group.mutate.join(', ')} against ${group.tests.join(', ')}`);
  const run = spawnSync('npx', ['--yes', STRYKER, 'run', configFile], { stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
  const report = JSON.parse(readFileSync(join(OUT, `${name}.json`), 'utf8'));
  for (const [file, { mutants, source }] of Object.entries(report.files)) {
    const count = (status) => mutants.filter((m) => m.status === status).length;
    const killed = count('Killed') + count('Timeout');
    const survived = mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage');
    const valid = killed + survived.length;
    const lines = source.split('\n');
    summary.push({
      group: name, file, mutants: mutants.length, killed, survived: survived.length, score: valid ? (100 * killed) / valid : 100,
      survivors: survived.map((m) => `${m.location.start.line}: ${m.mutatorName}: ${lines[m.location.start.line - 1].trim().slice(0, 100)} → ${m.replacement ?? ''}`),
    });
  }
}
console.log('\nfile | mutants | killed | survived | score');
for (const s of summary) console.log(`${s.file} | ${s.mutants} | ${s.killed} | ${s.survived} | ${s.score.toFixed(1)} %`);
const all = summary.reduce((t, s) => ({ killed: t.killed + s.killed, survived: t.survived + s.survived }), { killed: 0, survived: 0 });
console.log(`all | | ${all.killed} | ${all.survived} | ${((100 * all.killed) / (all.killed + all.survived)).toFixed(1)} %`);
for (const s of summary) for (const line of s.survivors) console.log(`survived ${s.file}:${line}`);
writeFileSync(join(OUT, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
