/**
 * The long fuzz run (not part of `npm test`): a seeded mix of hostile inputs built from small real files made with
 * weights/test-tiny.bin, decoded one by one. Prints a markdown report — outcomes per category, the slowest case,
 * the peak RSS — and exits 1 if any input gave something other than an AaraError or a valid image.
 * Every case draws from its own generator, seeded from (seed, case number), so the label reproduces it.
 *
 * Then the image readers (issue 14): seeded mutations of small PNGs of every kind and of baseline and progressive
 * JPEGs (test/helpers/image-fuzz.ts), each decoded by decodeImage with the default limits; the only acceptable
 * outcomes are an AaraError or an image of the size the file declares.
 *
 *   node dist/bench/fuzz.js [--cases N] [--image-cases N] [--seed S]   (default 1 000 000 and 200 000 cases, seed 1)
 */
import { readFileSync } from 'node:fs';
import { decodeSync, encodeSync } from '../src/codec/codec.js';
import { decodeImage } from '../src/io/image-io.js';
import { readWeights } from '../src/format/weights.js';
import {
  decodeOutcome,
  fixCrc,
  FuzzTally,
  HEADER,
  headerMutations,
  randomHeaderMutation,
  streamBytes,
  withBitFlipped,
  withCorruptStreams,
  withHeaderField,
  withRandomTail,
  withShiftedStreamBoundary,
} from '../test/helpers/bitstream-fuzz.js';
import { loadTestWeights, repoPath } from '../test/helpers/fixtures.js';
import { IMAGE_CATEGORIES, imageDeclaredSize, imageSeeds } from '../test/helpers/image-fuzz.js';
import { mulberry32, randomBytes, randomInt, type Rng } from '../test/helpers/prng.js';
import { syntheticImage } from '../test/helpers/synthetic-images.js';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} needs a non-negative integer`);
  return value;
}

const cases = option('--cases', 1_000_000);
const imageCases = option('--image-cases', 200_000);
const seed = option('--seed', 1);

const tiny = loadTestWeights('test-tiny.bin');
// tiny files keep full decodes (the cases that get through the entropy decoder) cheap
const files = [
  { name: '16×16 level 0', bytes: encodeSync(syntheticImage(16, 16, 1), tiny, { level: 0 }) },
  { name: '16×16 level 1', bytes: encodeSync(syntheticImage(16, 16, 2), tiny, { level: 1 }) },
  { name: '33×17 level 1', bytes: encodeSync(syntheticImage(33, 17, 3), tiny, { level: 1 }) },
];
const boundaryValues = headerMutations(files[0].bytes); // one model: one stream count and version for all

type Make = (rng: Rng, file: Uint8Array) => Uint8Array;
const flipBits = (rng: Rng, file: Uint8Array): Uint8Array => {
  let bytes = file;
  for (let flips = 1 + randomInt(rng, 3); flips > 0; flips--) bytes = withBitFlipped(bytes, randomInt(rng, 8 * file.length));
  return bytes;
};
const streamFlip = (rng: Rng, file: Uint8Array): Uint8Array => {
  const { start, end } = streamBytes(file);
  return fixCrc(withBitFlipped(file, 8 * start + randomInt(rng, 8 * (end - start))));
};

/** Weights are percentages of the cases; half of them get through the CRC to the checks and decoder behind it. */
const categories: { name: string; weight: number; make: Make }[] = [
  { name: 'random bytes', weight: 10, make: (rng) => randomBytes(rng, randomInt(rng, 300)) },
  { name: 'valid prefix + random', weight: 10,
    make: (rng, file) => withRandomTail(file, randomInt(rng, file.length + 1), randomBytes(rng, randomInt(rng, 200)), rng() < 0.5) },
  { name: 'truncated', weight: 10, make: (rng, file) => file.subarray(0, randomInt(rng, file.length)) },
  { name: 'bit flips', weight: 10, make: flipBits },
  { name: 'header boundary value', weight: 10,
    make: (rng, file) => withHeaderField(file, boundaryValues[randomInt(rng, boundaryValues.length)], rng() < 0.5) },
  { name: 'random header field, CRC fixed', weight: 10, make: (rng, file) => withHeaderField(file, randomHeaderMutation(rng, file), true) },
  { name: 'stream bit flip, CRC fixed', weight: 10, make: streamFlip },
  { name: 'stream bytes replaced, CRC fixed', weight: 15, make: (rng, file) => withCorruptStreams(file, rng, 1 + randomInt(rng, 4)) },
  { name: 'random streams, CRC fixed', weight: 10, make: (rng, file) => {
    const { start, end } = streamBytes(file);
    return withRandomTail(file, start, randomBytes(rng, end - start + 4), true);
  } },
  { name: 'stream boundary moved, CRC fixed', weight: 5,
    make: (rng, file) => withShiftedStreamBoundary(file, randomInt(rng, file[HEADER.streamCount] - 1), randomInt(rng, 9) - 4 || 1) },
];
const totalWeight = categories.reduce((sum, c) => sum + c.weight, 0);

function pickCategory(rng: Rng): (typeof categories)[number] {
  let ticket = randomInt(rng, totalWeight);
  for (const c of categories) {
    if (ticket < c.weight) return c;
    ticket -= c.weight;
  }
  throw new Error('unreachable: the tickets cover the weights');
}

const tally = new FuzzTally((bytes) => decodeSync(bytes, tiny));
const real = readWeights(new Uint8Array(readFileSync(repoPath('weights/aara.bin'))));
const wrongWeightsOutcome = decodeOutcome((bytes) => decodeSync(bytes, real), files[0].bytes).outcome;

const started = performance.now();
const PROGRESS_EVERY = 100_000;
for (let i = 0; i < cases; i++) {
  const rng = mulberry32(seed ^ Math.imul(i, 0x9e3779b1));
  const file = files[randomInt(rng, files.length)];
  const category = pickCategory(rng);
  tally.run(category.name, `seed ${seed} case ${i} (${file.name})`, category.make(rng, file.bytes));
  if ((i + 1) % PROGRESS_EVERY === 0) process.stderr.write(`${i + 1} cases, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}
const seconds = (performance.now() - started) / 1000;

const seeds = imageSeeds(mulberry32(seed));
const imageTally = new FuzzTally((bytes) => decodeImage(bytes), 20, imageDeclaredSize);
const imagesStarted = performance.now();
for (let i = 0; i < imageCases; i++) {
  const rng = mulberry32((seed + 0x5bd1e995) ^ Math.imul(i, 0x9e3779b1));
  const category = IMAGE_CATEGORIES[randomInt(rng, IMAGE_CATEGORIES.length)];
  const pool = seeds[category.format];
  const file = pool[randomInt(rng, pool.length)];
  imageTally.run(category.name, `seed ${seed} image case ${i} (${file.name})`, category.make(rng, file.bytes));
  if ((i + 1) % PROGRESS_EVERY === 0) process.stderr.write(`${i + 1} image cases, ${((performance.now() - imagesStarted) / 1000).toFixed(0)} s\n`);
}
const imageSeconds = (performance.now() - imagesStarted) / 1000;

console.log(`### aara fuzz run

- ${cases} cases, seed ${seed}, weights/test-tiny.bin; files: ${files.map((f) => `${f.name} (${f.bytes.length} bytes)`).join(', ')}
- ${seconds.toFixed(1)} s on one thread (${(cases / seconds).toFixed(0)} cases/s), Node ${process.version}
- slowest case: ${tally.maxMs.toFixed(2)} ms (${tally.slowest})
- peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB
- decoding a test-tiny file with weights/aara.bin: ${wrongWeightsOutcome}
- unexpected outcomes (neither an AaraError nor a valid image): ${tally.problemCount}

${tally.markdown()}`);
for (const problem of tally.problems) console.log(`- ${problem}`);

console.log(`
### image readers (decodeImage, default limits)

- ${imageCases} cases, seed ${seed}; seeds: ${[...seeds.png, ...seeds.jpeg].map((f) => `${f.name} (${f.bytes.length} bytes)`).join(', ')}
- ${imageSeconds.toFixed(1)} s on one thread (${(imageCases / imageSeconds).toFixed(0)} cases/s)
- slowest case: ${imageTally.maxMs.toFixed(2)} ms (${imageTally.slowest})
- peak RSS (whole run): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB
- unexpected outcomes (neither an AaraError nor an image of the declared size): ${imageTally.problemCount}

${imageTally.markdown()}`);
for (const problem of imageTally.problems) console.log(`- ${problem}`);
process.exitCode = tally.problemCount === 0 && imageTally.problemCount === 0 && wrongWeightsOutcome === 'WEIGHTS_MISMATCH' ? 0 : 1;
