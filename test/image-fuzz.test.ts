/**
 * Hostile PNG and JPEG files (issue 14): seeded mutations of small valid files of every kind the readers take —
 * every outcome must be an AaraError or an image of exactly the size the file declares; image data that inflates
 * short or long is always refused (never filled from memory); huge declared sizes are refused from the header.
 * The long run is bench/fuzz.ts.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeImage } from '../src/io/image-io.js';
import { FuzzTally, UNEXPECTED, VALID_IMAGE } from './helpers/bitstream-fuzz.js';
import { IMAGE_CATEGORIES, imageDeclaredSize, imageSeeds } from './helpers/image-fuzz.js';
import { mulberry32, randomInt } from './helpers/prng.js';

const CASES_PER_CATEGORY = 40;
const seeds = imageSeeds(mulberry32(14));
const tally = new FuzzTally((bytes) => decodeImage(bytes), 20, imageDeclaredSize);

function outcomesOf(category: string): Record<string, number> {
  return Object.fromEntries(tally.counts.get(category) ?? []);
}

test('the seeds decode to their declared sizes', () => {
  for (const seed of [...seeds.png, ...seeds.jpeg]) assert.is(tally.run('seed', seed.name, seed.bytes), VALID_IMAGE, `${seed.name}: ${tally.problems.join('\n')}`);
});

for (const category of IMAGE_CATEGORIES) {
  test(`${category.name}: an AaraError or an image of the declared size`, () => {
    const pool = seeds[category.format];
    for (let i = 0; i < CASES_PER_CATEGORY; i++) {
      const rng = mulberry32(Math.imul(IMAGE_CATEGORIES.indexOf(category) + 1, 0x9e3779b1) ^ i);
      const seed = pool[randomInt(rng, pool.length)];
      const outcome = tally.run(category.name, `case ${i} (${seed.name})`, category.make(rng, seed.bytes));
      assert.is.not(outcome, UNEXPECTED, tally.problems.join('\n'));
    }
  });
}

test('image data that inflates short or long is always refused', () => {
  assert.equal(outcomesOf('PNG image data short or long, CRC fixed'), { BAD_IMAGE: CASES_PER_CATEGORY });
});

test('huge declared sizes: refused, never decoded (the data cannot fill them)', () => {
  for (const name of ['PNG huge declared size, CRC fixed', 'JPEG huge declared size']) {
    const outcomes = outcomesOf(name);
    assert.ok(!(VALID_IMAGE in outcomes) || name.startsWith('JPEG'), `${name}: ${JSON.stringify(outcomes)}`);
    assert.ok((outcomes.TOO_LARGE ?? 0) > 0 && (outcomes.BAD_IMAGE ?? 0) > 0, `${name}: ${JSON.stringify(outcomes)}`);
  }
});

test('outcomes: no unexpected exception', () => {
  console.log(`\n${tally.markdown()}\n\n${tally.cases} cases, slowest ${tally.maxMs.toFixed(1)} ms (${tally.slowest}), peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  assert.is(tally.problemCount, 0, tally.problems.join('\n'));
});

test.run();
