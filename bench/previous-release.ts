/**
 * The previous release, built beside this one so a benchmark can time both in one run (on these noisy machines
 * only a ratio measured side by side means anything). `previousRelease(commit)` extracts the commit's tree with
 * `git archive` into .tmp/release-<commit>/ (git-ignored), links this checkout's node_modules and compiles it with
 * this checkout's TypeScript, then bundles it where its package.json says how (`npm run bundle`, since the package's
 * entry became a bundle); later calls reuse the build. Needs git and this repository's history.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../test/helpers/fixtures.js';

/**
 * The release the speed goals of issue 16 are stated against (session 4's last commit, the factorized model):
 * its weights file is the one both builds run in the side-by-side benchmarks, the only model it can read.
 */
export const BASELINE_RELEASE = '8500c42';

export interface Release {
  commit: string;
  /** The release's checkout; its build is in dist/ below it. */
  root: string;
  /** Imports a module of its build, e.g. 'src/codec/codec.js'. */
  load<T = Record<string, unknown>>(module: string): Promise<T>;
}

export function previousRelease(commit: string = BASELINE_RELEASE): Release {
  const full = execFileSync('git', ['rev-parse', '--verify', `${commit}^{commit}`], { cwd: repoPath('.'), encoding: 'utf8' }).trim();
  const root = repoPath(`.tmp/release-${full.slice(0, 12)}`);
  if (!existsSync(join(root, 'dist'))) {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${full} | tar -x -C "${root}"`], { cwd: repoPath('.'), stdio: 'inherit' });
    symlinkSync(repoPath('node_modules'), join(root, 'node_modules'));
    execFileSync(process.execPath, [repoPath('node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
    if (packageJson(root).scripts?.bundle) execFileSync('npm', ['run', '--silent', 'bundle'], { cwd: root, stdio: 'inherit' });
  }
  return { commit: full, root, load: (module) => import(join(root, 'dist', module)) };
}

const packageJson = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as
  { scripts?: Record<string, string>; exports: Record<string, { import?: string; default: string }> };

/**
 * The file `import 'aara'` (subpath '.') or `import 'aara/browser'` loads from the build at `dir` (a release's root, or
 * this checkout's), as its package.json says: what the benchmarks time, since it is what a user runs.
 */
export function packageEntry(dir: string, subpath: '.' | './browser' = '.'): string {
  const entry = packageJson(dir).exports[subpath];
  return join(dir, entry.import ?? entry.default);
}
