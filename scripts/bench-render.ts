/**
 * Render latency of one frame, inline on the calling thread vs through the worker pool (the way
 * the image route renders). Usage: npm run bench:render -- [file.dcm] [iterations]
 * Default file: the corpus's 512 × 512 CT (CT1_UNC, explicit VR little endian).
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseHeader } from '../src/dicom/header.js';
import { renderFrame } from '../src/dicom/render.js';
import { datasetSource, scanDicom } from '../src/dicom/scan.js';
import { RenderPool } from '../src/render/render-pool.js';
import { FileByteSource } from '../src/storage/file-byte-source.js';

const corpus = process.env.DICOM_CORPUS ?? resolve('../shared/dicom-corpus');
const path = resolve(process.argv[2] || `${corpus}/dicomParser/CT1_UNC.explicit_little_endian.dcm`);
const iterations = Number(process.argv[3] ?? 50);
if (!existsSync(path)) {
  console.error(`no such file: ${path}`);
  process.exit(1);
}

function summary(label: string, ms: number[]): void {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(1);
  console.log(`${label.padEnd(34)} median ${at(0.5)} ms   p90 ${at(0.9)} ms   min ${at(0)} ms`);
}

// Inline, as the route did before the pool: header parsed once (cached), structure walked per request.
const source = new FileByteSource(path);
const { dataset } = parseHeader(source);
const inline = (bitDepth: 8 | 16, k: number) => {
  const t = performance.now();
  const structure = scanDicom(source);
  renderFrame(dataset, structure, datasetSource(source, structure), { frame: 1, bitDepth, window: { center: 40 + k, width: 400 } });
  return performance.now() - t;
};
for (let k = 0; k < 5; k++) inline(8, k); // warm up
for (const depth of [8, 16] as const) summary(`inline, ${depth}-bit`, Array.from({ length: iterations }, (_, k) => inline(depth, k)));
const thumbs: number[] = [];
for (let k = 0; k < iterations; k++) {
  const t = performance.now();
  const structure = scanDicom(source);
  renderFrame(dataset, structure, datasetSource(source, structure), { frame: 1, maxSize: 128, window: { center: 40 + k, width: 400 } });
  thumbs.push(performance.now() - t);
}
summary('inline, 8-bit, maxSize 128', thumbs);
source.close();

const pool = new RenderPool({ workers: 1, timeoutMs: 30_000, maxQueue: 1000 });
const job = { path, sha256: 'bench', headerEnd: 0, frame: 1 };
await pool.render({ ...job, bitDepth: 8 }); // worker start-up and warm-up
for (let k = 0; k < 5; k++) await pool.render({ ...job, bitDepth: 8, window: { center: k, width: 400 } });
for (const depth of [8, 16] as const) {
  const ms: number[] = [];
  for (let k = 0; k < iterations; k++) {
    const t = performance.now();
    await pool.render({ ...job, bitDepth: depth, window: { center: 40 + k, width: 400 } });
    ms.push(performance.now() - t);
  }
  summary(`pool (1 worker), ${depth}-bit`, ms);
}
const concurrent = new RenderPool({ workers: 2, timeoutMs: 30_000, maxQueue: 1000 });
await Promise.all([1, 2].map((k) => concurrent.render({ ...job, bitDepth: 8, window: { center: k, width: 400 } })));
const t = performance.now();
await Promise.all(Array.from({ length: iterations }, (_, k) => concurrent.render({ ...job, bitDepth: 8, window: { center: 40 + k, width: 400 } })));
const wall = performance.now() - t;
console.log(`pool (2 workers), ${iterations} concurrent 8-bit: ${wall.toFixed(0)} ms wall, ${(wall / iterations).toFixed(1)} ms per render`);
await pool.close();
await concurrent.close();
