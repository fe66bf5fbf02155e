/**
 * rd.svg: rate–distortion curves in two panels (PSNR and MS-SSIM against bpp), one coloured curve with markers
 * per codec, and published learned-codec results as dashed reference curves. Plain SVG 1.1, no scripts.
 */
import { msSsimDecibels } from './bd-rate.js';
import { escapeXml } from './eval-report.js';

export interface RdSample {
  bpp: number;
  psnr: number;
  msSsim: number;
}

export interface RdCurve {
  name: string;
  points: RdSample[];
}

/**
 * CompressAI's published Kodak results, quality levels 1–6, as copied into ../shared/design/reference-results.md
 * (bpp of the entropy-coded strings only, PSNR-RGB and MS-SSIM-RGB averaged over the 24 images).
 */
export const PUBLISHED_CURVES: readonly RdCurve[] = [
  {
    name: 'bmshj2018-factorized',
    points: [
      { bpp: 0.1226, psnr: 26.909, msSsim: 0.91 },
      { bpp: 0.1885, psnr: 28.218, msSsim: 0.936 },
      { bpp: 0.2878, psnr: 29.617, msSsim: 0.9555 },
      { bpp: 0.4404, psnr: 31.277, msSsim: 0.9704 },
      { bpp: 0.6481, psnr: 32.956, msSsim: 0.9806 },
      { bpp: 0.967, psnr: 35.381, msSsim: 0.9879 },
    ],
  },
  {
    name: 'bmshj2018-hyperprior',
    points: [
      { bpp: 0.1313, psnr: 27.582, msSsim: 0.9174 },
      { bpp: 0.2089, psnr: 29.197, msSsim: 0.9421 },
      { bpp: 0.3199, psnr: 30.972, msSsim: 0.9611 },
      { bpp: 0.4784, psnr: 32.838, msSsim: 0.9749 },
      { bpp: 0.6687, psnr: 34.526, msSsim: 0.9836 },
      { bpp: 0.9388, psnr: 36.743, msSsim: 0.9893 },
    ],
  },
];

const MEASURED_COLOURS = ['#d62728', '#1f77b4', '#9467bd', '#2ca02c', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
const REFERENCE_STYLES = [
  { colour: '#555555', dash: '7 4' },
  { colour: '#888888', dash: '2 3' },
];
type Marker = 'circle' | 'square' | 'triangle' | 'diamond' | 'triangle-down' | 'cross';
const MARKERS: Marker[] = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'cross'];

/** Rates beyond this are cut off (unless aara goes further): the interesting part of the curves lies below it. */
const MAX_PLOTTED_BPP = 2;

const PLOT_WIDTH = 440;
const PLOT_HEIGHT = 330;
const MARGIN_LEFT = 70;
const PANEL_GAP = 100;
const TOP = 92;
const LEGEND_TOP = TOP + PLOT_HEIGHT + 64;
const LEGEND_ROW = 22;
/** a generous average glyph width at 13 px, to lay the legend out without measuring text */
const LEGEND_CHAR_WIDTH = 7.4;
const LEGEND_GAP = 28;
const SVG_WIDTH = MARGIN_LEFT + 2 * PLOT_WIDTH + PANEL_GAP + 30;
const FONT = 'system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif';

interface Panel {
  title: string;
  axisLabel: string;
  value: (p: RdSample) => number;
}

const PANELS: Panel[] = [
  { title: 'PSNR (RGB)', axisLabel: 'PSNR [dB]', value: (p) => p.psnr },
  { title: 'MS-SSIM (RGB)', axisLabel: 'MS-SSIM [dB] = −10·log₁₀(1 − MS-SSIM)', value: (p) => msSsimDecibels(p.msSsim) },
];

interface Styled {
  curve: RdCurve;
  colour: string;
  dash?: string;
  marker?: Marker;
  width: number;
}

/** Both panels and the legend; `curves` are the measured codecs (the first one, aara, drawn boldest). */
export function renderRdSvg(curves: RdCurve[], title: string, references: readonly RdCurve[] = PUBLISHED_CURVES): string {
  const styled: Styled[] = [
    ...references.map((curve, i) => ({ curve, colour: REFERENCE_STYLES[i % REFERENCE_STYLES.length].colour, dash: REFERENCE_STYLES[i % REFERENCE_STYLES.length].dash, width: 1.5 })),
    ...curves.map((curve, i) => ({ curve, colour: MEASURED_COLOURS[i % MEASURED_COLOURS.length], marker: MARKERS[i % MARKERS.length], width: i === 0 ? 2.6 : 1.7 })),
  ];
  const finiteRates = (list: readonly RdCurve[]) => list.flatMap((c) => c.points.map((p) => p.bpp)).filter(Number.isFinite);
  const maxBpp = Math.max(0.1, ...finiteRates(styled.map((s) => s.curve)));
  // the first curve (aara) is always shown whole, even beyond the usual cut-off
  const xAxis = niceAxis(0, Math.max(Math.min(maxBpp, MAX_PLOTTED_BPP), ...finiteRates(curves.slice(0, 1))));
  const legendItems = [...curves.map((c) => c.name), ...references.map((r) => `${r.name} (published, Kodak)`)];
  // measured codecs first, then the references
  const legendOrder = [...styled.slice(references.length), ...styled.slice(0, references.length)];
  const legendSlots = flowLegend(legendItems);
  const height = legendSlots[legendSlots.length - 1].y + LEGEND_ROW;
  const panels = PANELS.map((panel, i) => renderPanel(panel, i, styled, xAxis));
  const legend = legendOrder.map((s, i) => {
    const { x, y } = legendSlots[i];
    return `<g>${line([[x, y], [x + 34, y]], s)}${s.marker ? marker(s.marker, x + 17, y, s.colour) : ''}` +
      `<text x="${x + 42}" y="${y + 4}" font-size="13">${escapeXml(legendItems[i])}</text></g>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${SVG_WIDTH}" height="${height}" viewBox="0 0 ${SVG_WIDTH} ${height}" font-family="${FONT}" fill="#222">
<rect width="100%" height="100%" fill="#ffffff"/>
<text x="${MARGIN_LEFT}" y="28" font-size="18" font-weight="600">${escapeXml(title)}</text>
<text x="${MARGIN_LEFT}" y="48" font-size="12" fill="#666">rate = 8 × whole file bytes / pixels; quality of 8-bit RGB; published curves count the entropy-coded bits only</text>
${panels.join('\n')}
${legend.join('\n')}
</svg>
`;
}

/** Legend entries left to right, wrapping to a new row at the right edge. */
function flowLegend(labels: string[]): { x: number; y: number }[] {
  let x = MARGIN_LEFT;
  let y = LEGEND_TOP;
  return labels.map((label) => {
    const width = 42 + label.length * LEGEND_CHAR_WIDTH;
    if (x > MARGIN_LEFT && x + width > SVG_WIDTH - 10) {
      x = MARGIN_LEFT;
      y += LEGEND_ROW;
    }
    const slot = { x, y };
    x += width + LEGEND_GAP;
    return slot;
  });
}

interface Axis {
  min: number;
  max: number;
  ticks: number[];
  decimals: number;
}

/** Round bounds and a 1-2-5 tick step covering [low, high] with about `targetTicks` intervals. */
export function niceAxis(low: number, high: number, targetTicks = 6): Axis {
  if (!(high > low)) [low, high] = [low - 0.5, low + 0.5];
  const rough = (high - low) / targetTicks;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const normalised = rough / magnitude;
  const step = (normalised < 1.5 ? 1 : normalised < 3 ? 2 : normalised < 7 ? 5 : 10) * magnitude;
  const min = Math.floor(low / step + 1e-9) * step;
  const max = Math.ceil(high / step - 1e-9) * step;
  const count = Math.round((max - min) / step);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return { min, max, ticks: Array.from({ length: count + 1 }, (_, i) => min + i * step), decimals };
}

function renderPanel(panel: Panel, index: number, styled: Styled[], xAxis: Axis): string {
  const left = MARGIN_LEFT + index * (PLOT_WIDTH + PANEL_GAP);
  const visible = styled.flatMap((s) => s.curve.points).filter((p) => p.bpp <= xAxis.max).map(panel.value).filter(Number.isFinite);
  const yAxis = niceAxis(visible.length > 0 ? Math.min(...visible) : 0, visible.length > 0 ? Math.max(...visible) : 1);
  const x = (bpp: number) => left + ((bpp - xAxis.min) / (xAxis.max - xAxis.min)) * PLOT_WIDTH;
  const y = (v: number) => TOP + PLOT_HEIGHT - ((v - yAxis.min) / (yAxis.max - yAxis.min)) * PLOT_HEIGHT;
  const clipId = `plot-area-${index}`;
  const grid = [
    ...xAxis.ticks.map((t) => `<line x1="${r(x(t))}" y1="${TOP}" x2="${r(x(t))}" y2="${TOP + PLOT_HEIGHT}"/>`),
    ...yAxis.ticks.map((t) => `<line x1="${left}" y1="${r(y(t))}" x2="${left + PLOT_WIDTH}" y2="${r(y(t))}"/>`),
  ];
  const tickLabels = [
    ...xAxis.ticks.map((t) => `<text x="${r(x(t))}" y="${TOP + PLOT_HEIGHT + 18}" text-anchor="middle">${t.toFixed(xAxis.decimals)}</text>`),
    ...yAxis.ticks.map((t) => `<text x="${left - 8}" y="${r(y(t)) + 4}" text-anchor="end">${t.toFixed(yAxis.decimals)}</text>`),
  ];
  const series = styled.map((s) => {
    const points = s.curve.points.filter((p) => Number.isFinite(p.bpp) && Number.isFinite(panel.value(p))).sort((a, b) => a.bpp - b.bpp);
    const xy = points.map((p): [number, number] => [x(p.bpp), y(panel.value(p))]);
    return `<g>${line(xy, s)}${s.marker ? xy.map(([px, py]) => marker(s.marker as Marker, px, py, s.colour)).join('') : ''}</g>`;
  });
  const middleY = TOP + PLOT_HEIGHT / 2;
  return `<g>
<clipPath id="${clipId}"><rect x="${left}" y="${TOP}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}"/></clipPath>
<text x="${left}" y="${TOP - 12}" font-size="15" font-weight="600">${escapeXml(panel.title)}</text>
<g stroke="#e4e4e4" stroke-width="1">${grid.join('')}</g>
<rect x="${left}" y="${TOP}" width="${PLOT_WIDTH}" height="${PLOT_HEIGHT}" fill="none" stroke="#888"/>
<g font-size="12" fill="#444">${tickLabels.join('')}</g>
<text x="${left + PLOT_WIDTH / 2}" y="${TOP + PLOT_HEIGHT + 42}" text-anchor="middle" font-size="13">rate [bpp]</text>
<text transform="translate(${left - 50} ${middleY}) rotate(-90)" text-anchor="middle" font-size="13">${escapeXml(panel.axisLabel)}</text>
<g clip-path="url(#${clipId})">${series.join('\n')}</g>
</g>`;
}

const r = (v: number) => Math.round(v * 10) / 10;

function line(points: [number, number][], s: Styled): string {
  if (points.length === 0) return '';
  const d = points.map(([px, py], i) => `${i === 0 ? 'M' : 'L'}${r(px)} ${r(py)}`).join(' ');
  return `<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="${s.width}" stroke-linejoin="round"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`;
}

function marker(shape: Marker, cx: number, cy: number, colour: string): string {
  const attrs = `fill="${colour}" stroke="#fff" stroke-width="1"`;
  const polygon = (pts: [number, number][]) => `<polygon points="${pts.map(([dx, dy]) => `${r(cx + dx)},${r(cy + dy)}`).join(' ')}" ${attrs}/>`;
  switch (shape) {
    case 'circle': return `<circle cx="${r(cx)}" cy="${r(cy)}" r="4.2" ${attrs}/>`;
    case 'square': return `<rect x="${r(cx - 3.8)}" y="${r(cy - 3.8)}" width="7.6" height="7.6" ${attrs}/>`;
    case 'triangle': return polygon([[0, -5], [4.6, 3.5], [-4.6, 3.5]]);
    case 'triangle-down': return polygon([[0, 5], [4.6, -3.5], [-4.6, -3.5]]);
    case 'diamond': return polygon([[0, -5.2], [4.4, 0], [0, 5.2], [-4.4, 0]]);
    case 'cross': return `<path d="M${r(cx - 4)} ${r(cy - 4)}L${r(cx + 4)} ${r(cy + 4)}M${r(cx - 4)} ${r(cy + 4)}L${r(cx + 4)} ${r(cy - 4)}" stroke="${colour}" stroke-width="2"/>`;
  }
}
