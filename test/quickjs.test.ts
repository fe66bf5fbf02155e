/**
 * A third JavaScript engine: QuickJS (Bellard's interpreter compiled to WebAssembly, npm quickjs-emscripten) runs
 * the compiled ES modules of dist/ as they are — a module loader over the files, no bundler — and must decode every
 * golden file to its hash and encode the reproducible image sources to the committed bytes. Node and Chromium are
 * both V8; QuickJS shares none of its code (its own parser, number formatting, Math library, typed arrays).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { getQuickJS, type QuickJSContext, type QuickJSHandle } from 'quickjs-emscripten';
import { repoPath } from './helpers/fixtures.js';
import { GOLDEN_SETS, readGoldenManifest } from './golden/sources.js';

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Runs inside QuickJS: the synchronous codec over byte buffers handed in by the host. */
const ENTRY = `
import { decodeSync, encodeSync } from './src/codec/codec.js';
import { readWeights } from './src/format/weights.js';
let weights;
globalThis.aara = {
  useWeights: (buffer) => (weights = readWeights(new Uint8Array(buffer))).idHex,
  decode: (buffer) => decodeSync(new Uint8Array(buffer), weights).data.slice().buffer,
  encode: (pixels, width, height, level, grayscale) =>
    encodeSync({ width, height, data: new Uint8Array(pixels) }, weights, { level, grayscale }).slice().buffer,
};
`;

interface Engine {
  vm: QuickJSContext;
  call(method: string, ...args: (ArrayBuffer | number | boolean)[]): QuickJSHandle;
  dispose(): void;
}

async function startQuickJS(): Promise<Engine> {
  const runtime = (await getQuickJS()).newRuntime();
  runtime.setModuleLoader(
    (path) => readFileSync(path, 'utf8'),
    (base, requested) => resolve(dirname(base), requested),
  );
  const vm = runtime.newContext();
  vm.unwrapResult(vm.evalCode(ENTRY, repoPath('dist/quickjs-entry.js'), { type: 'module' })).dispose();
  runtime.executePendingJobs();
  const aara = vm.getProp(vm.global, 'aara');
  const toHandle = (v: ArrayBuffer | number | boolean) =>
    typeof v === 'number' ? vm.newNumber(v) : typeof v === 'boolean' ? (v ? vm.true : vm.false) : vm.newArrayBuffer(v);
  return {
    vm,
    call(method, ...args) {
      const handles = args.map(toHandle);
      try {
        return vm.unwrapResult(vm.callMethod(aara, method, handles));
      } finally {
        for (const h of handles) h.dispose();
      }
    },
    dispose() {
      aara.dispose();
      vm.dispose();
      runtime.dispose();
    },
  };
}

const copyOut = (engine: Engine, handle: QuickJSHandle): Uint8Array => {
  const view = engine.vm.getArrayBuffer(handle);
  const bytes = view.value.slice();
  view.dispose();
  handle.dispose();
  return bytes;
};

/** A copy in its own ArrayBuffer (a Buffer from readFileSync is a view of a shared pool, and Buffer#slice a view) */
const bufferOf = (bytes: Uint8Array): ArrayBuffer => Uint8Array.from(bytes).buffer;

let engine: Engine;
test.before(async () => {
  engine = await startQuickJS();
});
test.after(() => engine.dispose());

for (const set of GOLDEN_SETS) {
  const what = set.frozenVersion === undefined ? 'and encodes the image sources to the committed bytes' : `(version ${set.frozenVersion}, frozen)`;
  test(`${set.dir}: QuickJS decodes every golden file to its hash ${what}`, () => {
    const manifest = readGoldenManifest(set);
    const id = engine.call('useWeights', bufferOf(readFileSync(repoPath(set.weights))));
    assert.is(engine.vm.getString(id), manifest.weightsId);
    id.dispose();
    for (const entry of manifest.files) {
      const file = readFileSync(repoPath(`${set.dir}/${entry.file}`));
      const pixels = copyOut(engine, engine.call('decode', bufferOf(file)));
      assert.is(pixels.length, entry.width * entry.height * 3, entry.file);
      assert.is(sha256(pixels), entry.sha256, `${entry.file}: QuickJS decodes other pixels than V8`);
    }
    let encoded = 0;
    for (const source of set.sources.filter((s) => s.reproducible && s.image)) {
      const img = source.image!();
      const bytes = copyOut(engine, engine.call('encode', bufferOf(img.data), img.width, img.height, source.level, img.grayscale));
      assert.ok(Buffer.from(bytes).equals(readFileSync(repoPath(`${set.dir}/${source.file}`))), `${source.file}: QuickJS encodes other bytes than V8`);
      encoded++;
    }
    // a frozen set's files were made by an older encoder: only decoded
    assert.ok(encoded > 0 || set.frozenVersion !== undefined, 'no image source was encoded');
  });
}

test.run();
