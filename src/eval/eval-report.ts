/**
 * The results of `aara eval` as data, and the text reports made from them: eval.md (markdown tables) and
 * compare.html (side-by-side crops). The RD plot is in eval-plot.ts.
 */
import { msSsimDecibels } from './bd-rate.js';

/** One image coded at one setting. */
export interface Measurement {
  image: string;
  bytes: number;
  /** 8 × whole file bytes / pixels */
  bpp: number;
  /** dB over 8-bit RGB */
  psnr: number;
  msSsim: number;
  encodeSeconds: number;
  decodeSeconds: number;
}

/** Means over the images (PSNR: mean of the per-image dB values; MS-SSIM dB: of the mean MS-SSIM). */
export interface Average {
  bpp: number;
  psnr: number;
  msSsim: number;
  msSsimDb: number;
  encodeSeconds: number;
  decodeSeconds: number;
}

export interface SettingResult {
  setting: string;
  average: Average;
  images: Measurement[];
}

export interface CodecResult {
  codec: string;
  command: string;
  version: string;
  settings: SettingResult[];
}

/** Percent rate change of aara against an anchor at equal quality (negative: aara needs fewer bits). */
export interface BdRateRow {
  anchor: string;
  /** true for published numbers (not measured in this run) */
  published: boolean;
  psnr: number | null;
  msSsimDb: number | null;
}

export interface EvalResult {
  date: string;
  machine: { cpu: string; cores: number; node: string; os: string };
  weights: { idHex: string; levels: number };
  dataset: { dir: string; quick: boolean; crop: number | null; images: { name: string; width: number; height: number }[] };
  /** aara first, then the classic codecs that ran */
  codecs: CodecResult[];
  skipped: { codec: string; reason: string }[];
  bdRate: BdRateRow[];
}

export const AARA = 'aara';

/** The rate compare.html aims at: low enough that the codecs' artefacts differ visibly. */
export const COMPARE_TARGET_BPP = 0.25;

/** Means of the measurements of one setting. */
export function averageOf(images: Measurement[]): Average {
  const mean = (pick: (m: Measurement) => number) => images.reduce((sum, m) => sum + pick(m), 0) / images.length;
  const msSsim = mean((m) => m.msSsim);
  return {
    bpp: mean((m) => m.bpp),
    psnr: mean((m) => m.psnr),
    msSsim,
    msSsimDb: msSsimDecibels(msSsim),
    encodeSeconds: mean((m) => m.encodeSeconds),
    decodeSeconds: mean((m) => m.decodeSeconds),
  };
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const fixed = (value: number | null, digits: number) => (value === null || !Number.isFinite(value) ? '—' : value.toFixed(digits));
const milliseconds = (seconds: number) => fixed(seconds * 1000, seconds < 0.1 ? 1 : 0);
const percent = (value: number | null) => (value === null ? '—' : `${value > 0 ? '+' : ''}${value.toFixed(1)} %`);

/** A markdown table with its columns padded, so it also reads well as plain text in a terminal. */
function table(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, col) => Math.max(h.length, 3, ...rows.map((r) => r[col].length)));
  const line = (cells: string[]) => `| ${cells.map((c, col) => (rightAligned[col] ? c.padStart(widths[col]) : c.padEnd(widths[col]))).join(' | ')} |`;
  const rule = `|${widths.map((w, col) => (rightAligned[col] ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The BD-rate and average tables: what the CLI prints and the heart of eval.md. */
export function renderSummary(result: EvalResult): string {
  const bdRows = result.bdRate.map((r) => [r.anchor + (r.published ? ' (published)' : ''), percent(r.psnr), percent(r.msSsimDb)]);
  const sections = [
    '## BD-rate of aara',
    '',
    'Bit-rate change aara needs for the same quality, against each codec (negative: aara needs fewer bits). ' +
      'Bjøntegaard delta rate: cubic least-squares fit of log rate against quality, averaged over the quality range both curves cover; ' +
      'the MS-SSIM column measures quality as MS-SSIM in dB, −10·log10(1 − MS-SSIM). — means the curves do not overlap.' +
      (result.bdRate.some((r) => r.published) ? ' Published rows compare with CompressAI\'s numbers on the 24 Kodak images (their bpp counts ' +
        'the entropy-coded bits only): they mean something only when this run is on Kodak.' : ''),
    '',
    bdRows.length > 0 ? table(['against', 'BD-rate (PSNR)', 'BD-rate (MS-SSIM dB)'], bdRows, [false, true, true]) : '(no other codec ran)',
    '',
    '## Averages',
  ];
  for (const codec of result.codecs) {
    const rows = codec.settings.map((s) => [
      s.setting,
      fixed(s.average.bpp, 4),
      fixed(s.average.psnr, 2),
      fixed(s.average.msSsim, 4),
      fixed(s.average.msSsimDb, 2),
      milliseconds(s.average.encodeSeconds),
      milliseconds(s.average.decodeSeconds),
    ]);
    sections.push(
      '',
      `### ${codec.codec} — \`${codec.command}\`${codec.version ? ` (${codec.version})` : ''}`,
      '',
      table(['setting', 'bpp', 'PSNR dB', 'MS-SSIM', 'MS-SSIM dB', 'encode ms', 'decode ms'], rows, [false, true, true, true, true, true, true]),
    );
  }
  if (result.skipped.length > 0) {
    sections.push('', '## Not measured', '', ...result.skipped.map((s) => `- ${s.codec}: ${s.reason}`));
  }
  return sections.join('\n');
}

/** eval.md: how the numbers were made, the summary, and aara's per-image numbers. */
export function renderMarkdown(result: EvalResult): string {
  const { dataset, machine } = result;
  const aara = result.codecs.find((c) => c.codec === AARA);
  const perImage = aara
    ? table(
        ['image', ...aara.settings.map((s) => s.setting)],
        dataset.images.map((img, i) => [img.name, ...aara.settings.map((s) => `${fixed(s.images[i].bpp, 3)} / ${fixed(s.images[i].psnr, 2)} / ${fixed(s.images[i].msSsim, 4)}`)]),
        [false, ...aara.settings.map(() => true)],
      )
    : '';
  return [
    '# Rate–distortion evaluation',
    '',
    `- Images: ${dataset.images.length} from \`${dataset.dir}\`${dataset.crop ? `, centre-cropped to ${dataset.crop}×${dataset.crop} (--quick)` : ''}`,
    `- Weights: ${result.weights.idHex}`,
    `- Machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.os}; ${result.date}`,
    '- bpp: 8 × whole file bytes / pixels (headers included). PSNR over 8-bit RGB, averaged per image; MS-SSIM on RGB with the ' +
      'same code for every codec (src/eval/metrics.ts). Times are wall times: of aara\'s encode and decode calls (on the worker threads ' +
      'its command line shows), and of each classic codec\'s command-line tool, process start included.',
    '',
    renderSummary(result),
    '',
    ...(perImage ? ['## aara per image', '', 'Each cell: bpp / PSNR dB / MS-SSIM.', '', perImage, ''] : []),
  ].join('\n');
}

export interface ComparisonTile {
  codec: string;
  setting: string;
  png: Uint8Array;
  /** absent for the original */
  bpp?: number;
  psnr?: number;
  cropPsnr?: number;
}

export interface Comparison {
  image: string;
  crop: { left: number; top: number; width: number; height: number };
  tiles: ComparisonTile[];
}

/** compare.html: one row of crops per image, PNGs embedded as data URIs so the page stands alone. */
export function renderCompareHtml(comparisons: Comparison[], title: string): string {
  const tile = (t: ComparisonTile, crop: Comparison['crop']) => {
    const numbers = t.bpp === undefined
      ? 'source pixels'
      : `${fixed(t.bpp, 3)} bpp · ${fixed(t.psnr ?? null, 2)} dB<br><span class="muted">crop ${fixed(t.cropPsnr ?? null, 2)} dB</span>`;
    return `<figure class="tile"><img alt="${escapeXml(`${t.codec} ${t.setting}`)}" width="${crop.width}" height="${crop.height}" ` +
      `src="data:image/png;base64,${Buffer.from(t.png).toString('base64')}"><figcaption><b>${escapeXml(t.codec)}</b> ${escapeXml(t.setting)}<br>${numbers}</figcaption></figure>`;
  };
  const sections = comparisons.map((c) =>
    `<section><h2>${escapeXml(c.image)} <span class="muted">— ${c.crop.width}×${c.crop.height} crop at (${c.crop.left}, ${c.crop.top})</span></h2>\n` +
    `<div class="row">${c.tiles.map((t) => tile(t, c.crop)).join('\n')}</div></section>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeXml(title)}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 24px; color: #222; background: #f6f6f4; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 15px; margin: 28px 0 8px; }
.muted { color: #777; font-weight: normal; }
.row { display: flex; flex-wrap: wrap; gap: 12px; }
.tile { margin: 0; padding: 6px; background: #fff; border: 1px solid #ddd; border-radius: 4px; }
.tile img { display: block; image-rendering: pixelated; }
.tile figcaption { margin-top: 4px; font-size: 13px; }
#zoom:checked ~ main .tile img { zoom: 2; }
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<p class="muted">Each coded version is the setting nearest in bpp to the aara level nearest ${COMPARE_TARGET_BPP} bpp on that image.
bpp counts the whole file of the whole image; PSNR is that of the whole image, with the crop's own PSNR below.</p>
<input type="checkbox" id="zoom"><label for="zoom"> zoom 2×</label>
<main>
${sections.join('\n')}
</main>
</body>
</html>
`;
}
