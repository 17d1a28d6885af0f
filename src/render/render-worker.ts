/**
 * The render worker (a piscina task handler, run in a worker thread): open the blob, walk and
 * parse it (kept in a small per-worker cache, so that paging through the frames of a large
 * multi-frame file parses its header once), decode → LUTs → resize → PNG, and hand the PNG back
 * without copying.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { LRUCache } from 'lru-cache';
import type { DicomDataset } from '../dicom/dataset.js';
import { parseHeader } from '../dicom/header.js';
import { renderFrame } from '../dicom/render.js';
import { datasetSource, type DicomStructure, scanDicom } from '../dicom/scan.js';
import { AppError } from '../errors.js';
import { announceStart } from '../workers/task-start.js';
import { FileByteSource } from '../storage/file-byte-source.js';
import type { RenderOutcome, RenderTask } from './render-task.js';

interface ParsedFile {
  readonly structure: DicomStructure;
  readonly dataset: DicomDataset;
}

/** Bounded by the header bytes the entries were parsed from; deflated files are not kept (their inflated data set would be). */
const parsed = new LRUCache<string, ParsedFile>({ max: 64, maxSize: 64 * 1024 * 1024 });

function parse(task: RenderTask, source: FileByteSource): ParsedFile {
  const hit = parsed.get(task.sha256);
  if (hit) return hit;
  const structure = scanDicom(source);
  const { dataset } = parseHeader(source, structure);
  const file = { structure, dataset };
  if (!structure.transferSyntax.deflated && task.headerEnd <= 64 * 1024 * 1024) parsed.set(task.sha256, file, { size: Math.max(1, task.headerEnd) });
  return file;
}

/** The task handler: one frame of one stored file to PNG; AppErrors come back as data. */
export default async function render(task: RenderTask): Promise<RenderOutcome> {
  announceStart(task);
  try {
    const source = new FileByteSource(task.path);
    try {
      const { structure, dataset } = parse(task, source);
      const image = await renderFrame(dataset, structure, datasetSource(source, structure), {
        frame: task.frame,
        bitDepth: task.bitDepth,
        ...(task.window ? { window: task.window } : {}),
        ...(task.maxSize !== undefined ? { maxSize: task.maxSize } : {}),
      });
      // Transfer, never copy, the PNG; a Buffer that shares Node's allocation pool is copied out first.
      const own = image.png.byteOffset === 0 && image.png.byteLength === image.png.buffer.byteLength;
      const png = own ? image.png : new Uint8Array(image.png);
      const outcome: RenderOutcome = { ok: true, png, width: image.width, height: image.height };
      return move({ [transferableSymbol]: [png.buffer], [valueSymbol]: outcome } as unknown as Parameters<typeof move>[0]) as never;
    } finally {
      source.close();
    }
  } catch (err) {
    if (err instanceof AppError) return { ok: false, code: err.code, message: err.message, httpStatus: err.httpStatus };
    throw err;
  }
}
