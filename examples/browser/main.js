// The example page's script: weights from a URL, encode from a canvas, decode into one, the work in Web Workers.
import { AaraWorkers, loadWeights } from 'aara/browser';

const params = new URLSearchParams(location.search);
const weightsUrl = params.get('weights') ?? '/weights/aara.bin';
const $ = (id) => document.getElementById(id);
const status = (text) => ($('status').textContent = text);

async function digest(rgba) {
  const rgb = new Uint8Array((rgba.length / 4) * 3);
  for (let p = 0; p < rgba.length / 4; p++) rgb.set(rgba.subarray(p * 4, p * 4 + 3), p * 3);
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', rgb));
  return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}

function show(img) {
  const canvas = $('canvas');
  canvas.width = img.width;
  canvas.height = img.height;
  canvas.getContext('2d').putImageData(new ImageData(img.data, img.width, img.height), 0, 0);
}

async function decodeFile(workers, bytes, name) {
  const started = performance.now();
  const img = await workers.decode(bytes);
  show(img);
  status(`${name}: ${img.width}×${img.height}, decoded in ${(performance.now() - started).toFixed(0)} ms\n` +
    `SHA-256 of the RGB pixels: ${await digest(img.data)} (the same in every browser and in Node)`);
}

async function encodeImage(workers, blob, level) {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(bitmap, 0, 0);
  const pixels = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  const started = performance.now();
  const file = await workers.encode(pixels, { level });
  const ms = performance.now() - started;
  const link = $('download');
  link.href = URL.createObjectURL(new Blob([file], { type: 'application/octet-stream' }));
  link.download = `${blob.name?.replace(/\.[^.]*$/, '') ?? 'image'}.aara`;
  link.hidden = false;
  await decodeFile(workers, file, link.download);
  status(`${$('status').textContent}\nencoded at level ${level} in ${ms.toFixed(0)} ms: ${file.length} bytes, ` +
    `${((8 * file.length) / (bitmap.width * bitmap.height)).toFixed(3)} bpp`);
}

async function main() {
  const bytes = new Uint8Array(await (await fetch(weightsUrl)).arrayBuffer());
  const weights = await loadWeights(bytes); // checked here once; each worker checks its own copy
  for (let level = 0; level < weights.config.levels; level++) $('level').add(new Option(`${level}`, `${level}`, level === 5, level === 5));
  const workers = new AaraWorkers(bytes);
  status(`weights ${weightsUrl} (${weights.idHex.slice(0, 16)}…, ${weights.config.levels} levels) ready`);
  const guard = (work) => work.catch((err) => status(`${err.name}: ${err.message}`));
  $('file').onchange = (e) => e.target.files[0] && guard(e.target.files[0].arrayBuffer().then((b) => decodeFile(workers, b, e.target.files[0].name)));
  $('image').onchange = (e) => e.target.files[0] && guard(encodeImage(workers, e.target.files[0], Number($('level').value)));
  for (const url of params.getAll('decode')) {
    await guard(fetch(url).then((r) => r.arrayBuffer()).then((b) => decodeFile(workers, b, url)));
    statuses.push($('status').textContent);
  }
}

// ?report=URL: when the page is done (weights loaded, each ?decode= file shown in turn), POST what its status said
// after each file there (test/browser.test.ts drives the page this way)
const statuses = [];
main().catch((err) => status(`${err.name}: ${err.message}`)).then(() => {
  const report = params.get('report');
  if (report) fetch(report, { method: 'POST', body: JSON.stringify({ userAgent: navigator.userAgent, statuses, status: $('status').textContent }) });
});
