// Writes the golden bitstreams test/golden/*.aara and test/golden/golden.json from the sources listed in
// test/golden/sources.ts, with weights/test-tiny.bin. Run after `npm run build`, from anywhere:
//   node test/golden/make-golden.mjs
// Regenerate only on a deliberate format or codec change: the point of these files is that they stay put.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { decodeSync } from '../../dist/src/codec.js';
import { readWeights } from '../../dist/src/weights.js';
import { repoPath } from '../../dist/test/helpers/fixtures.js';
import { GOLDEN_SOURCES, GOLDEN_WEIGHTS } from '../../dist/test/golden/sources.js';

const dir = repoPath('test/golden');
const weights = readWeights(new Uint8Array(readFileSync(repoPath(GOLDEN_WEIGHTS))));
for (const stale of readdirSync(dir).filter((f) => f.endsWith('.aara'))) unlinkSync(`${dir}/${stale}`);

const FLAGS_OFFSET = 6; // src/container.ts: flags bit 0 marks a grayscale source
const files = GOLDEN_SOURCES.map((s) => {
  const bytes = s.encode(weights);
  const decoded = decodeSync(bytes, weights);
  writeFileSync(`${dir}/${s.file}`, bytes);
  console.log(`${s.file}: ${decoded.width}×${decoded.height}, level ${s.level}, ${bytes.length} bytes`);
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
  weights: GOLDEN_WEIGHTS,
  weightsId: weights.idHex,
  files,
};
writeFileSync(`${dir}/golden.json`, `${JSON.stringify(golden, null, 2)}\n`);
