/**
 * The only reader of process.env. Every setting is validated here, once: an invalid value stops
 * the start with a message that names the variable and what it expected.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';

export interface Config {
  /** TCP port; 0 picks a free one (tests). */
  readonly port: number;
  readonly host: string;
  /** Holds the SQLite database and the blob folder. */
  readonly dataDir: string;
  /** Largest accepted upload, in bytes. */
  readonly maxUploadBytes: number;
  /** Base of absolute URLs the API returns (no trailing slash); undefined: derived from each request. */
  readonly publicUrl: string | undefined;
  /** Parsed headers kept in memory for the next request: at most this many… */
  readonly headerCacheEntries: number;
  /** …parsed from at most this many header bytes in all. */
  readonly headerCacheBytes: number;
  /** Largest Rows × Columns × Frames the image route renders (over it: 422). */
  readonly maxRenderPixels: number;
  /** Worker threads that decode and encode images (the event loop never does). */
  readonly renderWorkers: number;
  /** Longest one render may run in its worker before the worker is terminated (503 RENDER_TIMEOUT). */
  readonly renderTimeoutMs: number;
  /** Renders waiting for a free worker; past it the route answers 503 RENDER_BUSY. */
  readonly renderQueue: number;
  /** Bytes of rendered PNGs kept in memory (LRU; 0 disables the cache). */
  readonly pngCacheBytes: number;
  /** Files one request may store: multipart files and ZIP entries together. */
  readonly maxFilesPerRequest: number;
  /** Uncompressed bytes one ZIP archive may declare (and inflate to) in all: zip bombs. */
  readonly maxArchiveBytes: number;
  /** Largest uncompressed/compressed ratio of a ZIP entry over 1 MiB: zip bombs. */
  readonly maxZipRatio: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const GiB = 1024 ** 3;

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${raw}`);
  }
  return value;
}

function publicUrl(env: Env): string | undefined {
  const raw = env.PUBLIC_URL?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`PUBLIC_URL must use http or https, got ${JSON.stringify(raw)}`);
  }
  if (url.search || url.hash) throw new ConfigError('PUBLIC_URL must not have a query or fragment');
  return url.href.replace(/\/+$/, '');
}

function host(env: Env): string {
  const raw = env.HOST?.trim() || '127.0.0.1';
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(raw)) throw new ConfigError(`HOST is not a host name or address: ${JSON.stringify(raw)}`);
  return raw;
}

/** Reads and validates the configuration (defaults documented in the README). */
export function loadConfig(env: Env = process.env): Config {
  return Object.freeze({
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: host(env),
    dataDir: resolve(env.DATA_DIR?.trim() || './data'),
    maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', GiB, 1, Number.MAX_SAFE_INTEGER),
    publicUrl: publicUrl(env),
    headerCacheEntries: integer(env, 'HEADER_CACHE_ENTRIES', 1000, 0, 1_000_000),
    headerCacheBytes: integer(env, 'HEADER_CACHE_BYTES', 128 * 1024 ** 2, 0, Number.MAX_SAFE_INTEGER),
    maxRenderPixels: integer(env, 'MAX_RENDER_PIXELS', 2 ** 28, 1, Number.MAX_SAFE_INTEGER),
    renderWorkers: integer(env, 'RENDER_WORKERS', availableParallelism(), 1, 256),
    renderTimeoutMs: integer(env, 'RENDER_TIMEOUT_MS', 30_000, 1, 3_600_000),
    renderQueue: integer(env, 'RENDER_QUEUE', 1000, 1, 1_000_000),
    pngCacheBytes: integer(env, 'PNG_CACHE_BYTES', 64 * 1024 ** 2, 0, Number.MAX_SAFE_INTEGER),
    maxFilesPerRequest: integer(env, 'MAX_FILES_PER_REQUEST', 1000, 1, 1_000_000),
    maxArchiveBytes: integer(env, 'MAX_ARCHIVE_BYTES', 8 * GiB, 1, Number.MAX_SAFE_INTEGER),
    maxZipRatio: integer(env, 'MAX_ZIP_RATIO', 200, 1, 1_000_000),
  });
}
