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
  /**
   * AUTH: 'none' (single-user local mode: every request acts as the built-in user "local"; only
   * allowed on a loopback HOST) or 'token' (every GraphQL request needs `Authorization: Bearer`).
   */
  readonly auth: AuthMode;
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
  /** V8 heap limit of each render worker, MiB (past it the render fails, the server stays up). */
  readonly renderMaxHeapMb: number;
  /** Worker threads that validate uploads (walk, header parse, summary): never on the event loop. */
  readonly parseWorkers: number;
  /** Longest one upload's validation may run in its worker (past it: InvalidDicomError, nothing stored). */
  readonly parseTimeoutMs: number;
  /** V8 heap limit of each parse worker, MiB (past it: InvalidDicomError, nothing stored). */
  readonly parseMaxHeapMb: number;
  /** Largest inflated/deflated ratio of a deflated data set inflating past 1 MiB (deflate bombs). */
  readonly maxInflateRatio: number;
  /** Bytes of rendered PNGs kept in memory (LRU; 0 disables the cache). */
  readonly pngCacheBytes: number;
  /** Bytes of GraphQL query answers kept in memory (LRU; 0 disables; src/http/graphql-answer-cache.ts). */
  readonly graphqlAnswerCacheBytes: number;
  /** Files one request may store: multipart files and ZIP entries together. */
  readonly maxFilesPerRequest: number;
  /** Uncompressed bytes one ZIP archive may declare (and inflate to) in all: zip bombs. */
  readonly maxArchiveBytes: number;
  /** Largest uncompressed/compressed ratio of a ZIP entry over 1 MiB: zip bombs. */
  readonly maxZipRatio: number;
  /** pino level: fatal, error, warn, info, debug, trace or silent. */
  readonly logLevel: LogLevel;
  /** When false (default), logs carry no patient data: error messages (which may quote UIDs or names) are left out. */
  readonly logPatientData: boolean;
  /** GET /readyz answers 503 when DATA_DIR has less free space than this. */
  readonly minFreeDiskBytes: number;
  /** Requests per minute per API token (AUTH=token) or per client address (local mode, and failed authentications); token bucket refill; 0 disables the limit. */
  readonly rateLimitPerMinute: number;
  /** Requests a client may send at once before the per-minute refill applies (bucket size). */
  readonly rateLimitBurst: number;
  /** Origins allowed to read responses cross-origin; empty: no CORS headers; ['*']: any origin. */
  readonly corsOrigins: readonly string[];
  /** GraphQL Armor limits per operation (0 disables that limit). */
  readonly graphqlMaxDepth: number;
  readonly graphqlMaxAliases: number;
  readonly graphqlMaxCost: number;
  readonly graphqlMaxTokens: number;
  readonly graphqlMaxDirectives: number;
  /** "Did you mean …" hints in validation errors (off by default: they reveal the schema to probes). */
  readonly graphqlFieldSuggestions: boolean;
  /** Key of the companion URLs' HMAC (≥ 32 characters); undefined: DATA_DIR/url-signing.key, created once. */
  readonly urlSigningSecret: string | undefined;
  /** Lifetime of a signed companion URL, seconds (a URL lives between this and this + min(this / 4, 900)). */
  readonly signedUrlTtlSeconds: number;
}

export const AUTH_MODES = ['none', 'token'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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

/** 127.0.0.0/8, ::1 (also as [::1] or ::ffff:127.x.y.z) and localhost: reachable from this machine only. */
export function isLoopbackHost(hostName: string): boolean {
  const h = hostName.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || /^(0{0,4}:){7}0{0,3}1$/.test(h)) return true;
  const v4 = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  return v4 !== null && v4.slice(1).every((n) => Number(n) <= 255) && Number(v4[1]) === 127;
}

function auth(env: Env, hostName: string): AuthMode {
  const raw = env.AUTH?.trim().toLowerCase() || 'none';
  if (!(AUTH_MODES as readonly string[]).includes(raw)) throw new ConfigError(`AUTH must be one of ${AUTH_MODES.join(', ')}, got ${JSON.stringify(raw)}`);
  if (raw === 'none' && !isLoopbackHost(hostName)) {
    throw new ConfigError(
      `HOST=${hostName} is reachable from other machines, but AUTH is not set: anyone could read the stored patient data. ` +
        'Set AUTH=token (every request then needs "Authorization: Bearer <token>"; create one with `npm run token -- create --user NAME`), ' +
        'or bind to a loopback address (HOST=127.0.0.1) for single-user local mode.',
    );
  }
  return raw as AuthMode;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false, got ${JSON.stringify(raw)}`);
}

function logLevel(env: Env): LogLevel {
  const raw = env.LOG_LEVEL?.trim().toLowerCase() || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as LogLevel;
}

function corsOrigins(env: Env): readonly string[] {
  const raw = env.CORS_ORIGINS?.trim();
  if (!raw) return Object.freeze([]);
  const origins = raw
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  for (const origin of origins) {
    if (origin === '*') continue;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      throw new ConfigError(`CORS_ORIGINS entries must be origins like https://viewer.example.org or *, got ${JSON.stringify(origin)}`);
    }
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin !== origin.replace(/\/+$/, '')) {
      throw new ConfigError(`CORS_ORIGINS entries must be origins (scheme://host[:port], no path), got ${JSON.stringify(origin)}`);
    }
  }
  return Object.freeze(origins.map((o) => (o === '*' ? o : new URL(o).origin)));
}

function urlSigningSecret(env: Env): string | undefined {
  const raw = env.URL_SIGNING_SECRET;
  if (raw === undefined || raw === '') return undefined;
  // ≥ 32 characters: an HMAC key of ≥ 256 bits (its strength is the randomness given: `openssl rand -base64 48`).
  if (raw.length < 32) throw new ConfigError(`URL_SIGNING_SECRET must have at least 32 characters, got ${raw.length}`);
  return raw;
}

/** Reads and validates the configuration (defaults documented in the README). */
export function loadConfig(env: Env = process.env): Config {
  const hostName = host(env);
  return Object.freeze({
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: hostName,
    auth: auth(env, hostName),
    dataDir: resolve(env.DATA_DIR?.trim() || './data'),
    maxUploadBytes: integer(env, 'MAX_UPLOAD_BYTES', GiB, 1, Number.MAX_SAFE_INTEGER),
    publicUrl: publicUrl(env),
    headerCacheEntries: integer(env, 'HEADER_CACHE_ENTRIES', 1000, 0, 1_000_000),
    headerCacheBytes: integer(env, 'HEADER_CACHE_BYTES', 128 * 1024 ** 2, 0, Number.MAX_SAFE_INTEGER),
    maxRenderPixels: integer(env, 'MAX_RENDER_PIXELS', 2 ** 28, 1, Number.MAX_SAFE_INTEGER),
    renderWorkers: integer(env, 'RENDER_WORKERS', availableParallelism(), 1, 256),
    renderTimeoutMs: integer(env, 'RENDER_TIMEOUT_MS', 30_000, 1, 3_600_000),
    renderQueue: integer(env, 'RENDER_QUEUE', 1000, 1, 1_000_000),
    renderMaxHeapMb: integer(env, 'RENDER_MAX_HEAP_MB', 1024, 32, 1_000_000),
    parseWorkers: integer(env, 'PARSE_WORKERS', Math.max(1, Math.min(2, availableParallelism())), 1, 256),
    parseTimeoutMs: integer(env, 'PARSE_TIMEOUT_MS', 2000, 1, 3_600_000),
    parseMaxHeapMb: integer(env, 'PARSE_MAX_HEAP_MB', 512, 32, 1_000_000),
    maxInflateRatio: integer(env, 'MAX_INFLATE_RATIO', 200, 1, 1_000_000),
    pngCacheBytes: integer(env, 'PNG_CACHE_BYTES', 64 * 1024 ** 2, 0, Number.MAX_SAFE_INTEGER),
    graphqlAnswerCacheBytes: integer(env, 'GRAPHQL_ANSWER_CACHE_BYTES', 32 * 1024 ** 2, 0, Number.MAX_SAFE_INTEGER),
    maxFilesPerRequest: integer(env, 'MAX_FILES_PER_REQUEST', 1000, 1, 1_000_000),
    maxArchiveBytes: integer(env, 'MAX_ARCHIVE_BYTES', 8 * GiB, 1, Number.MAX_SAFE_INTEGER),
    maxZipRatio: integer(env, 'MAX_ZIP_RATIO', 200, 1, 1_000_000),
    logLevel: logLevel(env),
    logPatientData: boolean(env, 'LOG_PATIENT_DATA', false),
    minFreeDiskBytes: integer(env, 'MIN_FREE_DISK_BYTES', GiB, 0, Number.MAX_SAFE_INTEGER),
    rateLimitPerMinute: integer(env, 'RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000_000),
    rateLimitBurst: integer(env, 'RATE_LIMIT_BURST', 200, 1, 1_000_000_000),
    corsOrigins: corsOrigins(env),
    graphqlMaxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 15, 0, 1000),
    graphqlMaxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', 200, 0, 100_000),
    graphqlMaxCost: integer(env, 'GRAPHQL_MAX_COST', 0, 0, Number.MAX_SAFE_INTEGER),
    graphqlMaxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', 5000, 0, 10_000_000),
    graphqlMaxDirectives: integer(env, 'GRAPHQL_MAX_DIRECTIVES', 50, 0, 100_000),
    graphqlFieldSuggestions: boolean(env, 'GRAPHQL_FIELD_SUGGESTIONS', false),
    urlSigningSecret: urlSigningSecret(env),
    signedUrlTtlSeconds: integer(env, 'SIGNED_URL_TTL_SECONDS', 3600, 1, 7 * 24 * 3600),
  });
}
