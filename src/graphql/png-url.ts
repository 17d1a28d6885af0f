/**
 * The companion image route's URL scheme, shared by the `pngUrl` field (which builds URLs) and
 * src/http/png-route.ts (which parses them):
 *
 *   /files/{id}/frames/{frame}.png?v={content version}&center=&width=&maxSize=&bitDepth=
 *
 * `v` is the first 16 hex digits of the file's SHA-256 and the renderer revision ("…r1"): a URL
 * that carries the current one names one rendering of fixed bytes, so its response may be cached
 * as immutable. Rendering arguments are validated
 * here, once, for both edges (GraphQL arguments and query parameters).
 */
import { RENDERER_REVISION } from '../dicom/render.js';
import { MAX_THUMBNAIL_SIZE } from '../dicom/resize.js';
import { FrameOutOfRangeError, InvalidArgumentError } from '../errors.js';

export interface PngOptions {
  /** 1-based. */
  readonly frame: number;
  readonly window?: { readonly center: number; readonly width: number };
  /** Fit within maxSize × maxSize (never enlarged). */
  readonly maxSize?: number;
  /** Gray output depth; colour images are always 8-bit RGB. */
  readonly bitDepth: 8 | 16;
}

export interface PngRequest extends PngOptions {
  readonly fileId: string;
  /** Content version (contentVersion()); omitted: a URL that may be revalidated sooner. */
  readonly version?: string;
}

/** A parsed `v`: which bytes, rendered by which pipeline revision. */
export interface ContentVersion {
  readonly shaPrefix: string;
  readonly revision: number;
}

/** What the index knows about a file's image, enough to check arguments without opening it. */
export interface PngTarget {
  readonly sha256: string;
  readonly rows: number | null;
  readonly columns: number | null;
  readonly numberOfFrames: number | null;
}

export const PNG_PATH_PATTERN = /^\/files\/([A-Za-z0-9-]{1,64})\/frames\/(\d{1,9})\.png$/;

/** Hex digits of the SHA-256 in `v`. */
export const VERSION_LENGTH = 16;

/** `v` for a file: its SHA-256 prefix and the current renderer revision. */
export function contentVersion(sha256: string): string {
  return `${sha256.slice(0, VERSION_LENGTH)}r${RENDERER_REVISION}`;
}

export function pngPath(req: PngRequest): string {
  const path = `/files/${encodeURIComponent(req.fileId)}/frames/${req.frame}.png`;
  const q = new URLSearchParams();
  if (req.version) q.set('v', req.version);
  if (req.window) {
    q.set('center', String(req.window.center));
    q.set('width', String(req.window.width));
  }
  if (req.maxSize !== undefined) q.set('maxSize', String(req.maxSize));
  if (req.bitDepth !== 8) q.set('bitDepth', String(req.bitDepth));
  const query = q.toString();
  return query ? `${path}?${query}` : path;
}

/** Raw arguments as a client gave them (GraphQL arguments or parsed query parameters). */
export interface PngArguments {
  readonly frame: number;
  readonly window?: { readonly center: number; readonly width: number } | null;
  readonly maxSize?: number | null;
  readonly bitDepth?: number | null;
}

/**
 * Validates rendering arguments against the file (INVALID_ARGUMENT, FRAME_OUT_OF_RANGE) and returns
 * them in canonical form: a maxSize the image already fits in is dropped (the same image, so the
 * same URL, ETag and cache entry).
 */
export function checkPngArguments(args: PngArguments, file: PngTarget): PngOptions {
  const { frame, window, maxSize, bitDepth } = args;
  if (!Number.isInteger(frame) || frame < 1) throw new InvalidArgumentError(`frame must be an integer ≥ 1, got ${frame}`);
  const frames = file.numberOfFrames ?? 1;
  if (frame > frames) throw new FrameOutOfRangeError(frame, frames);
  if (window) {
    if (!Number.isFinite(window.center)) throw new InvalidArgumentError(`window.center must be a finite number, got ${window.center}`);
    if (!Number.isFinite(window.width) || window.width <= 0) throw new InvalidArgumentError(`window.width must be a finite number > 0, got ${window.width}`);
  }
  if (maxSize !== undefined && maxSize !== null && (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > MAX_THUMBNAIL_SIZE)) {
    throw new InvalidArgumentError(`maxSize must be an integer from 1 to ${MAX_THUMBNAIL_SIZE}, got ${maxSize}`);
  }
  const depth = bitDepth ?? 8;
  if (depth !== 8 && depth !== 16) throw new InvalidArgumentError(`bitDepth must be 8 or 16, got ${depth}`);
  const largest = Math.max(file.rows ?? 0, file.columns ?? 0);
  const fits = maxSize === undefined || maxSize === null || (largest > 0 && maxSize >= largest);
  return {
    frame,
    bitDepth: depth,
    ...(window ? { window: { center: window.center, width: window.width } } : {}),
    ...(fits ? {} : { maxSize: maxSize! }),
  };
}

function number(params: URLSearchParams, name: string, pattern: RegExp, what: string): number | undefined {
  const raw = params.get(name);
  if (raw === null) return undefined;
  if (!pattern.test(raw.trim()) || !Number.isFinite(Number(raw))) throw new InvalidArgumentError(`${name} must be ${what}, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** Reads the route's query parameters (not yet checked against the file: see checkPngArguments). */
/** An image URL's query, parsed (frame comes from the path). */
export type PngQuery = Omit<PngArguments, 'frame'> & { readonly version?: ContentVersion };

export function parsePngQuery(params: URLSearchParams): PngQuery {
  const decimal = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
  const center = number(params, 'center', decimal, 'a number');
  const width = number(params, 'width', decimal, 'a number > 0');
  if ((center === undefined) !== (width === undefined)) throw new InvalidArgumentError('give both center and width, or neither');
  const maxSize = number(params, 'maxSize', /^\d{1,9}$/, `an integer from 1 to ${MAX_THUMBNAIL_SIZE}`);
  const bitDepth = number(params, 'bitDepth', /^\d{1,2}$/, '8 or 16');
  const v = params.get('v');
  const version = v === null ? null : /^([0-9a-f]{8,64})(?:r(\d{1,6}))?$/.exec(v);
  if (v !== null && !version) {
    throw new InvalidArgumentError(`v must be 8 to 64 lowercase hex digits of the file's SHA-256, optionally followed by r<revision>, got ${JSON.stringify(v)}`);
  }
  return {
    ...(center !== undefined && width !== undefined ? { window: { center, width } } : {}),
    ...(maxSize !== undefined ? { maxSize } : {}),
    ...(bitDepth !== undefined ? { bitDepth } : {}),
    ...(version ? { version: { shaPrefix: version[1]!, revision: Number(version[2] ?? 0) } } : {}),
  };
}
