/**
 * Files the package ships beside its code (weights/aara.bin, package.json). Found from this module's own file, whose
 * folder is dist/src/io/ in tsc's build and dist/bundle/ in the bundle the package's entry is (package.json): so the
 * lookup walks up to the folder whose package.json names aara rather than counting levels. Done on first use: an
 * import does no file system work.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from '../core/errors.js';

let root: string | undefined;

/** The path of `relative` (e.g. 'weights/aara.bin') in the installed package. */
export function packageFile(relative: string): string {
  root ??= packageRoot(dirname(fileURLToPath(import.meta.url)));
  return join(root, relative);
}

function packageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (nameOfPackage(dir) === 'aara') return dir;
    if (dirname(dir) === dir) fail('FILE_NOT_FOUND', `aara's package.json, in no folder above ${from}`);
  }
}

function nameOfPackage(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name;
  } catch {
    return undefined; // none here (or not JSON): look further up
  }
}
