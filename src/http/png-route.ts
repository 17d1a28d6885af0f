/**
 * The companion image route: GET /files/{id}/frames/{frame}.png[?center=&width=] answers
 * image/png. Stored files never change, so a rendering is identified by content hash + frame +
 * window: that is the strong ETag, and a repeated request with If-None-Match gets 304.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { renderFrame } from '../dicom/render.js';
import { datasetSource, scanDicom } from '../dicom/scan.js';
import { FrameOutOfRangeError, ImageTooLargeError, InvalidArgumentError, NoPixelDataError, NotFoundError } from '../errors.js';
import { PNG_PATH_PATTERN } from '../graphql/png-url.js';
import type { LocalBlobStore } from '../storage/local-blob-store.js';
import type { DicomFileRepository } from '../storage/dicom-files.js';
import type { HeaderCache } from '../storage/header-cache.js';

export interface PngRouteDeps {
  /** Largest Rows × Columns × Frames rendered. */
  readonly maxRenderPixels: number;
  readonly files: DicomFileRepository;
  readonly blobs: LocalBlobStore;
  readonly headers: HeaderCache;
}

/** True when the path is the image route's. */
export function isPngPath(pathname: string): boolean {
  return PNG_PATH_PATTERN.test(pathname);
}

function parseWindow(params: URLSearchParams): { center: number; width: number } | undefined {
  const c = params.get('center');
  const w = params.get('width');
  if (c === null && w === null) return undefined;
  if (c === null || w === null) throw new InvalidArgumentError('give both center and width, or neither');
  const center = Number(c);
  const width = Number(w);
  if (c.trim() === '' || !Number.isFinite(center)) throw new InvalidArgumentError(`center must be a finite number, got ${JSON.stringify(c)}`);
  if (w.trim() === '' || !Number.isFinite(width) || width <= 0) throw new InvalidArgumentError(`width must be a number > 0, got ${JSON.stringify(w)}`);
  return { center, width };
}

/** Handles one image request; throws AppErrors for the caller to map to statuses. */
export async function handlePng(req: IncomingMessage, res: ServerResponse, url: URL, deps: PngRouteDeps): Promise<void> {
  const match = PNG_PATH_PATTERN.exec(url.pathname);
  if (!match) throw new NotFoundError();
  const [, id, frameText] = match as unknown as [string, string, string];
  const frame = Number(frameText);
  const window = parseWindow(url.searchParams);

  const file = deps.files.findById(id);
  if (!file) throw new NotFoundError(`No DICOM file with id ${id}`);
  if (!file.hasPixelData) throw new NoPixelDataError();
  const frames = file.numberOfFrames ?? 1;
  if (frame < 1 || frame > frames) throw new FrameOutOfRangeError(frame, frames);
  const pixels = (file.rows ?? 0) * (file.columns ?? 0) * frames;
  // Native pixel data with less than 1 bit per claimed pixel is inconsistent, not large: the
  // renderer rejects it (422 INCONSISTENT_IMAGE, saying why) before allocating anything.
  const inconsistent = !file.pixelDataEncapsulated && (file.pixelDataLength ?? 0) * 8 < pixels;
  if (pixels > deps.maxRenderPixels && !inconsistent) throw new ImageTooLargeError(pixels, deps.maxRenderPixels);

  const etag = `"${file.sha256.slice(0, 32)}-${frame}${window ? `-${window.center}-${window.width}` : ''}"`;
  const cacheHeaders = { etag, 'cache-control': 'private, max-age=3600' };
  if (ifNoneMatch(req.headers['if-none-match'], etag)) {
    res.writeHead(304, cacheHeaders);
    res.end();
    return;
  }

  const header = await deps.headers.get(file);
  const source = deps.blobs.open(file.sha256);
  let png: Buffer;
  try {
    const structure = scanDicom(source);
    png = renderFrame(header.dataset, structure, datasetSource(source, structure), { frame, ...(window ? { window } : {}) }).png;
  } finally {
    source.close();
  }
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, ...cacheHeaders });
  res.end(req.method === 'HEAD' ? undefined : png);
}

function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

