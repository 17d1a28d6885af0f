/**
 * The companion image route: GET /files/{id}/frames/{frame}.png[?v=&center=&width=&maxSize=&bitDepth=]
 * answers image/png. Rendering runs in the worker pool (never on the event loop) and its result
 * is cached. Stored files never change, so a rendering is identified by content hash + frame +
 * parameters: that is the strong ETag and the cache key, and If-None-Match gets 304. A URL that
 * carries the content version `v` (as `pngUrl` builds it) is cacheable as immutable.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { RENDERER_REVISION } from '../dicom/render.js';
import { ImageTooLargeError, NoPixelDataError, NotFoundError } from '../errors.js';
import { checkPngArguments, type PngOptions, PNG_PATH_PATTERN, parsePngQuery, type PngQuery } from '../graphql/png-url.js';
import type { PngCache } from '../render/png-cache.js';
import type { RenderPool } from '../render/render-pool.js';
import type { RenderJob } from '../render/render-task.js';
import type { RequestAudit } from '../storage/audit-log.js';
import type { OwnerFileRepository } from '../storage/dicom-files.js';
import type { LocalBlobStore } from '../storage/local-blob-store.js';
import type { FileFacts } from '../storage/file-facts-cache.js';
import type { RequestTarget } from './request-targets.js';

export interface PngRouteDeps {
  /** Largest Rows × Columns × Frames rendered. */
  readonly maxRenderPixels: number;
  /** The caller's files (another user's id is not found). */
  readonly files: OwnerFileRepository;
  readonly blobs: LocalBlobStore;
  readonly pool: RenderPool;
  readonly cache: PngCache;
  /** When the request's signed URL expires (unix ms): no cache may keep the answer longer. */
  readonly urlExpiresAt?: number;
  /** This request's audit recorder: a RENDER per image served (200 or 304) to a GET. */
  readonly audit: RequestAudit;
}

/**
 * Patient images: `private` keeps them out of shared caches (proxies, CDNs) while the browser
 * keeps its own copy. A versioned URL names fixed bytes and a fixed rendering: a year, immutable;
 * an unversioned one a minute. Either is cut to the signed URL's remaining life (whole seconds),
 * so that no cache serves the image after the URL has expired.
 */
export function pngCacheControl(immutable: boolean, urlExpiresAt: number | undefined, nowMs: number = Date.now()): string {
  const maxAge = immutable ? 31_536_000 : 60;
  const remaining = urlExpiresAt === undefined ? maxAge : Math.max(0, Math.floor((urlExpiresAt - nowMs) / 1000));
  return `private, max-age=${Math.min(maxAge, remaining)}${immutable ? ', immutable' : ''}`;
}

/** True when the path is the image route's. */
export function isPngPath(pathname: string): boolean {
  return PNG_PATH_PATTERN.test(pathname);
}

/** Content hash + frame + every parameter that changes the pixels: the ETag and the cache key. */
export function renderingTag(sha256: string, o: PngOptions): string {
  const window = o.window ? `-${o.window.center}-${o.window.width}` : '';
  const size = o.maxSize !== undefined ? `-s${o.maxSize}` : '';
  const depth = o.bitDepth === 16 ? '-d16' : '';
  return `${renderingKeyPrefix(sha256)}-r${RENDERER_REVISION}-${o.frame}${window}${size}${depth}`;
}

/** The start of every renderingTag() of a content hash (to forget them all when its file is deleted). */
export function renderingKeyPrefix(sha256: string): string {
  return sha256.slice(0, 32);
}

/** What an image request's target says (path and query), before any file is looked at. */
export interface ParsedPngRequest {
  readonly id: string;
  readonly frame: number;
  readonly query: PngQuery;
  /** What the last request with this target derived from its file's facts (kept while they are the same object). */
  checked?: CheckedPngRequest;
}

/** An image request checked against its file: the canonical options, the ETag, whether immutable. */
interface CheckedPngRequest {
  readonly facts: FileFacts;
  readonly options: PngOptions;
  readonly key: string;
  readonly etag: string;
  readonly immutable: boolean;
}

/** Reads an image request's target; NotFoundError / InvalidArgumentError when it is not one. */
export function parsePngRequest(url: URL): ParsedPngRequest {
  const match = PNG_PATH_PATTERN.exec(url.pathname);
  if (!match) throw new NotFoundError();
  const [, id, frameText] = match as unknown as [string, string, string];
  return { id, frame: Number(frameText), query: parsePngQuery(url.searchParams) };
}

/**
 * Handles one image request; throws (or rejects with) AppErrors for the caller to map to statuses.
 * Synchronous up to the 304 (no promise for a revalidation); a promise while a rendering is awaited.
 * The target's reading is kept on it (request-targets.ts): a repeated URL is not parsed again.
 */
export function handlePng(req: IncomingMessage, res: ServerResponse, target: RequestTarget, deps: PngRouteDeps): void | Promise<void> {
  const parsed = (target.png ??= parsePngRequest(target.url));
  const file = deps.files.findFacts(parsed.id);
  if (!file) throw new NotFoundError(`No DICOM file with id ${parsed.id}`);
  // The same facts (the cache's object: same file, same bytes) give the same checks and ETag.
  if (parsed.checked?.facts !== file) parsed.checked = checkPngRequest(parsed, file, deps.maxRenderPixels);
  const { options, key, etag, immutable } = parsed.checked;
  const cacheControl = pngCacheControl(immutable, deps.urlExpiresAt);
  if (ifNoneMatch(req.headers['if-none-match'], etag)) {
    if (req.method !== 'HEAD') deps.audit.record('RENDER', file.id);
    res.writeHead(304, ['etag', etag, 'cache-control', cacheControl]);
    res.end();
    return;
  }
  const job = { path: deps.blobs.blobPath(file.sha256), sha256: file.sha256, headerEnd: file.headerEnd, ...options };
  return sendRendering(req, res, key, job, { etag, 'cache-control': cacheControl }, file.id, deps);
}

/** Checks an image request against its file's facts (AppErrors for the caller); its options and ETag. */
function checkPngRequest({ id, frame, query }: ParsedPngRequest, file: FileFacts, maxRenderPixels: number): CheckedPngRequest {
  if (!file.hasPixelData) throw new NoPixelDataError();
  const options = checkPngArguments({ ...query, frame }, file);
  if (query.version !== undefined && !file.sha256.startsWith(query.version.shaPrefix)) {
    throw new NotFoundError(`File ${id} has no content version ${query.version.shaPrefix} (its pngUrl gives the current one)`);
  }
  // Immutable only when the URL names these bytes AND this pipeline: an older revision's URL still
  // works, but is revalidated like an unversioned one.
  const immutable = query.version !== undefined && query.version.revision === RENDERER_REVISION;
  const frames = file.numberOfFrames ?? 1;
  const pixels = (file.rows ?? 0) * (file.columns ?? 0) * frames;
  // Native pixel data with less than 1 bit per claimed pixel is inconsistent, not large: the
  // renderer rejects it (422 INCONSISTENT_IMAGE, saying why) before allocating anything.
  const inconsistent = !file.pixelDataEncapsulated && (file.pixelDataLength ?? 0) * 8 < pixels;
  if (pixels > maxRenderPixels && !inconsistent) throw new ImageTooLargeError(pixels, maxRenderPixels);
  const key = renderingTag(file.sha256, options);
  return { facts: file, options, key, etag: `"${key}"`, immutable };
}

/** Renders (or takes from the cache) and sends the image. */
async function sendRendering(
  req: IncomingMessage,
  res: ServerResponse,
  key: string,
  job: RenderJob,
  cacheHeaders: { etag: string; 'cache-control': string },
  fileId: string,
  deps: PngRouteDeps,
): Promise<void> {
  // A client that goes away stops waiting; its render is cancelled unless another request shares it.
  const gone = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) gone.abort(new Error('client closed the connection'));
  };
  res.once('close', onClose);
  let png: Buffer;
  try {
    png = (await deps.cache.get(key, (signal) => deps.pool.render(job, signal), gone.signal)).png;
  } catch (err) {
    if (gone.signal.aborted) return;
    throw err;
  } finally {
    res.off('close', onClose);
  }
  if (req.method !== 'HEAD') deps.audit.record('RENDER', fileId);
  res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length, ...cacheHeaders });
  res.end(req.method === 'HEAD' ? undefined : png);
}

function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header === etag) return true; // what browsers send back: no split
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}
