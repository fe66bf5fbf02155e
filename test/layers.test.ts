/**
 * The engine's layers (README, Architecture): the import graph of cli.ts, src/ and kernels/ has no circle, and
 * no module imports a layer above its own. Imports are read from the sources (static, dynamic and `export … from`,
 * types included: a type import is a dependency too).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { repoPath } from './helpers/fixtures.js';

/** Lowest first: a module may import its own layer or a lower one. */
const LAYERS = [
  'src/core', 'kernels', 'src/entropy', 'src/format', 'src/io', 'src/model', 'src/codec', 'src/parallel',
  'src/browser', 'src/index.ts', 'src/eval', 'src/cli.ts', 'cli.ts',
];

const root = repoPath('');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = posix.join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sources(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

/** The relative specifiers a source imports (packages and node: modules are outside the engine). */
function specifiersIn(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
}

/** Repository paths of the modules a source imports. */
function importsOf(file: string): string[] {
  return specifiersIn(readFileSync(join(root, file), 'utf8'))
    .map((s) => relative(root, join(root, dirname(file), s)).split('\\').join('/').replace(/\.js$/, '.ts'));
}

/** The first circle of a depth-first walk, as the path that closes it; undefined if there is none. */
function findCircle(graph: Map<string, string[]>): string[] | undefined {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string): string[] | undefined => {
    const at = path.indexOf(file);
    if (at >= 0) return [...path.slice(at), file];
    if (done.has(file)) return undefined;
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      const circle = visit(target);
      if (circle) return circle;
    }
    path.pop();
    done.add(file);
    return undefined;
  };
  for (const file of graph.keys()) {
    const circle = visit(file);
    if (circle) return circle;
  }
  return undefined;
}

function layerOf(file: string): number {
  const layer = LAYERS.findIndex((l) => file === l || file.startsWith(`${l}/`));
  if (layer < 0) assert.unreachable(`${file} is in no layer: add its folder to LAYERS`);
  return layer;
}

const files = ['cli.ts', ...sources('src'), ...sources('kernels')];
const graph = new Map(files.map((file) => [file, importsOf(file)]));

test('every import names a source file of the engine', () => {
  for (const [file, imports] of graph) {
    for (const target of imports) assert.ok(graph.has(target), `${file} imports ${target}, which is not an engine source`);
  }
});

test('no import circle', () => {
  const circle = findCircle(graph);
  assert.ok(!circle, `import circle: ${circle?.join(' → ')}`);
});

test('no layer imports a layer above it', () => {
  for (const [file, imports] of graph) {
    for (const target of imports) {
      assert.ok(layerOf(target) <= layerOf(file), `${file} (${LAYERS[layerOf(file)]}) imports ${target} (${LAYERS[layerOf(target)]}), a layer above`);
    }
  }
});

/** Every module `entries` load, themselves included. */
function closure(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const target of graph.get(file) ?? []) visit(target);
  };
  entries.forEach(visit);
  return seen;
}

test('the browser entry and its worker load no Node module and no package', () => {
  const loaded = closure(['src/browser/index.ts', 'src/browser/worker.ts']);
  assert.ok(loaded.has('src/codec/codec.ts') && loaded.has('kernels/conv2d.ts'), 'the walk reached the codec and the kernels');
  for (const file of loaded) {
    const code = readFileSync(join(root, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, ''); // usage examples in doc comments are not imports
    const foreign = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"./][^'"]*)['"]/g)].map((m) => m[1]);
    assert.equal(foreign, [], `${file} (loaded by the browser entry) imports ${foreign.join(', ')}`);
  }
  assert.not.ok(loaded.has('src/io/image-io.ts'), 'image-io needs node:zlib');
});

test('the checks see every import form and a circle', () => {
  const text = "import { a } from './a.js';\nimport type { B } from '../core/b.js';\nexport { c } from './c.js';\nconst d = await import('./d.js');";
  assert.equal(specifiersIn(text), ['./a.js', '../core/b.js', './c.js', './d.js']);
  assert.equal(findCircle(new Map([['a', ['b']], ['b', ['c']], ['c', ['b']]])), ['b', 'c', 'b']);
  assert.is(findCircle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), undefined);
});

test.run();
