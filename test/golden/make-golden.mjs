// Writes the golden bitstreams and golden.json of every set in test/golden/sources.ts (one per model kind with its
// test weights, one with the shipped weights), or of the sets named. Run after `npm run build`, from anywhere:
//   node test/golden/make-golden.mjs [test/golden/shipped …]
// Regenerate only on a deliberate format or codec change (every set), or when new weights ship (the shipped set:
// train/export.py runs it): the point of these files is that they stay put.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { decodeSync } from '../../dist/src/codec/codec.js';
import { readWeights } from '../../dist/src/format/weights.js';
import { repoPath } from '../../dist/test/helpers/fixtures.js';
import { GOLDEN_SETS } from '../../dist/test/golden/sources.js';

const FLAGS_OFFSET = 6; // src/format/container.ts: flags bit 0 marks a grayscale source
const named = process.argv.slice(2).map((dir) => dir.replace(/\/+$/, ''));
const unknown = named.filter((dir) => !GOLDEN_SETS.some((set) => set.dir === dir && set.frozenVersion === undefined));
if (unknown.length > 0) {
  console.error(`make-golden.mjs: no golden set to make ${unknown.join(', ')} (sets: ${GOLDEN_SETS.filter((set) => set.frozenVersion === undefined).map((set) => set.dir).join(', ')}; frozen sets stay as written)`);
  process.exit(2);
}
for (const set of GOLDEN_SETS.filter((s) => s.frozenVersion === undefined && (named.length === 0 || named.includes(s.dir)))) {
  const dir = repoPath(set.dir);
  mkdirSync(dir, { recursive: true });
  const weights = readWeights(new Uint8Array(readFileSync(repoPath(set.weights))));
  for (const stale of readdirSync(dir).filter((f) => f.endsWith('.aara'))) unlinkSync(`${dir}/${stale}`);
  const files = set.sources.map((s) => {
    const bytes = s.encode(weights);
    const decoded = decodeSync(bytes, weights);
    writeFileSync(`${dir}/${s.file}`, bytes);
    console.log(`${set.dir}/${s.file}: ${decoded.width}×${decoded.height}, level ${s.level}, ${bytes.length} bytes`);
    return {
      file: s.file,
      width: decoded.width,
      height: decoded.height,
      level: s.level,
      grayscale: (bytes[FLAGS_OFFSET] & 1) === 1,
      bytes: bytes.length,
      source: s.source,
      sha256: createHash('sha256').update(decoded.data).digest('hex'),
    };
  });
  const golden = {
    about: 'sha256 is the SHA-256 of the decoded RGB bytes (width·height·3, row-major); written by make-golden.mjs',
    weights: set.weights,
    weightsId: weights.idHex,
    files,
  };
  writeFileSync(`${dir}/golden.json`, `${JSON.stringify(golden, null, 2)}\n`);
}
