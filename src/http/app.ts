/**
 * createApp(config) → { server, close }: node:http in front of yoga. Multipart GraphQL requests
 * are parsed by graphql-upload-ts (files stream to disk, never held in memory) and handed to yoga
 * as a parsed body; the image, download, bulk data and ZIP routes and the health check are plain
 * handlers; subscriptions are yoga's server-sent events. Images render in a
 * worker pool, so attribute queries keep answering while renders run.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { processRequest } from 'graphql-upload-ts';
import type { Config } from '../config.js';
import { backfillCatalog } from '../storage/catalog-backfill.js';
import { DicomFileRepository } from '../storage/dicom-files.js';
import { DicomIngest } from '../storage/dicom-ingest.js';
import { openDatabase } from '../storage/db.js';
import { HeaderCache } from '../storage/header-cache.js';
import { LocalBlobStore } from '../storage/local-blob-store.js';
import { UploadIngest } from '../storage/zip-ingest.js';
import { createDicomEvents } from '../graphql/subscriptions.js';
import { FileDeletions } from '../graphql/delete-mutations.js';
import { PngCache, type PngCacheStats } from '../render/png-cache.js';
import { RenderPool } from '../render/render-pool.js';
import { sendHealth } from './health.js';
import { sendError, sendJsonError } from './json-response.js';
import { handleBulkData, isBulkDataPath } from './bulkdata-route.js';
import { handleDownload, isDownloadPath } from './download-route.js';
import { handlePng, isPngPath, renderingKeyPrefix } from './png-route.js';
import { handleZip, isZipPath } from './zip-route.js';
import { createGraphqlHandler } from './yoga.js';

export interface App {
  readonly server: Server;
  /** Stops accepting connections, lets requests in flight finish, stops the render workers, closes the database. */
  close(): Promise<void>;
  /** Render and PNG cache counters (tests, monitoring); no ids, names or patient data. */
  renderStats(): { pool: ReturnType<RenderPool['stats']>; cache: PngCacheStats };
}

export interface AppOptions {
  /** Where unexpected errors go (default: stderr). */
  readonly logError?: (err: unknown) => void;
}

const CSRF_HEADERS = ['apollo-require-preflight', 'x-graphql-yoga-csrf'];

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logError = options.logError ?? ((err: unknown) => console.error('[dicomql] unexpected error:', err));
  const database = openDatabase(config.dataDir);
  const blobs = new LocalBlobStore(config.dataDir);
  await blobs.sweepTemp();
  const files = new DicomFileRepository(database.db);
  // Files stored before the catalog existed (migration 0001) are placed in it once; a no-op after.
  await backfillCatalog(files.catalog, blobs, (id, err) => logError(new Error(`catalog backfill: file ${id}: ${String(err)}`)));
  const headers = new HeaderCache(blobs, { maxEntries: config.headerCacheEntries, maxBytes: config.headerCacheBytes });
  const ingest = new DicomIngest(blobs, files, config.maxUploadBytes);
  const uploads = new UploadIngest(ingest, {
    tempDir: join(config.dataDir, 'tmp'),
    maxUploadBytes: config.maxUploadBytes,
    maxArchiveBytes: config.maxArchiveBytes,
    maxZipRatio: config.maxZipRatio,
  });
  const events = createDicomEvents();
  const cache = new PngCache(config.pngCacheBytes);
  const deletions = new FileDeletions({
    catalog: files.catalog,
    files,
    blobs,
    headers,
    events,
    evictRenderings: (sha256) => cache.evict(renderingKeyPrefix(sha256)),
  });
  const yoga = createGraphqlHandler(
    { files, headers, ingest, uploads, events, deletions, maxFilesPerRequest: config.maxFilesPerRequest },
    config.publicUrl,
    logError,
  );
  const pool = new RenderPool({ workers: config.renderWorkers, timeoutMs: config.renderTimeoutMs, maxQueue: config.renderQueue });

  /** Open subscription streams (server-sent events): they never end by themselves, so close() ends them. */
  const eventStreams = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (/text\/event-stream/i.test(req.headers.accept ?? '')) {
      eventStreams.add(res);
      res.once('close', () => eventStreams.delete(res));
    }
    const method = req.method ?? 'GET';
    if (url.pathname === '/healthz' && (method === 'GET' || method === 'HEAD')) return sendHealth(res);
    if (isPngPath(url.pathname) && (method === 'GET' || method === 'HEAD')) {
      return handlePng(req, res, url, { files, blobs, pool, cache, maxRenderPixels: config.maxRenderPixels });
    }
    if (method === 'GET' || method === 'HEAD') {
      if (isDownloadPath(url.pathname)) return handleDownload(req, res, url, { files, blobs });
      if (isBulkDataPath(url.pathname)) return handleBulkData(req, res, url, { files, blobs, headers });
      if (isZipPath(url.pathname)) return handleZip(req, res, url, { files, blobs });
    }
    if (method === 'POST' && /^multipart\/form-data/i.test(req.headers['content-type'] ?? '')) {
      if (url.pathname !== '/graphql') return sendJsonError(res, 404, 'NOT_FOUND', 'Not found');
      // A cross-site <form> can send multipart without a preflight; a custom header it cannot.
      if (!CSRF_HEADERS.some((h) => req.headers[h] !== undefined)) {
        req.resume();
        return sendJsonError(res, 403, 'CSRF_HEADER_REQUIRED', `Multipart requests must carry one of the headers ${CSRF_HEADERS.join(', ')}`, {
          connection: 'close',
        });
      }
      try {
        // Individual files are checked against maxUploadBytes (FileTooLargeError per file).
        (req as IncomingMessage & { body?: unknown }).body = await processRequest(req, res, {
          maxFileSize: config.maxUploadBytes,
          maxFieldSize: 1_000_000,
          maxFiles: config.maxFilesPerRequest,
        });
        // The body is consumed and size-checked per file already; yoga's 25 MB body limit is for
        // JSON requests and must not see the multipart Content-Length.
        delete req.headers['content-length'];
      } catch (err) {
        const status = (err as { status?: number }).status;
        const message = err instanceof Error ? err.message : 'Invalid multipart request';
        if (typeof status === 'number' && status >= 400 && status < 500) {
          return sendJsonError(res, status, status === 413 ? 'REQUEST_TOO_LARGE' : 'INVALID_MULTIPART_REQUEST', message, { connection: 'close' });
        }
        throw err;
      }
    }
    await yoga.requestListener(req, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendError(res, err, logError));
  });

  let closing: Promise<void> | undefined;
  return {
    server,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        for (const res of eventStreams) res.destroy();
      })
        .then(() => pool.close())
        .then(() => {
          database.close();
        });
      return closing;
    },
    renderStats: () => ({ pool: pool.stats(), cache: cache.stats() }),
  };
}
