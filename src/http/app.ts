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
import { Authenticator, isAuthFailure } from '../auth/authenticator.js';
import { LOCAL_PRINCIPAL, type Principal } from '../auth/principal.js';
import { ApiTokenRepository } from '../storage/api-tokens.js';
import { type PrincipalForSignedUrl, principalForSignedUrl } from '../auth/signed-url-principal.js';
import { UrlSigner } from '../auth/url-signer.js';
import { VerifiedUrlCache } from '../auth/verified-url-cache.js';
import { loadUrlSigningKey } from '../auth/url-signing-key.js';
import { UserRepository } from '../storage/users.js';
import { AuditLog, type RequestAudit } from '../storage/audit-log.js';
import { backfillCatalog } from '../storage/catalog-backfill.js';
import { DicomFileRepository } from '../storage/dicom-files.js';
import { DicomIngest } from '../storage/dicom-ingest.js';
import { openDatabase } from '../storage/db.js';
import type { SyncFile } from '../storage/wal-sync.js';
import { HeaderCache } from '../storage/header-cache.js';
import { LocalBlobStore } from '../storage/local-blob-store.js';
import { logRepairReport, type RepairReport, repairDataDir } from '../storage/repair.js';
import { UploadIngest } from '../storage/zip-ingest.js';
import { createDicomEvents } from '../graphql/subscriptions.js';
import { FileDeletions } from '../graphql/delete-mutations.js';
import { PngCache, type PngCacheStats } from '../render/png-cache.js';
import { RenderPool } from '../render/render-pool.js';
import { ParsePool } from '../parse/parse-pool.js';
import { sendHealth, sendReadiness } from './health.js';
import { sendError, sendJsonError, sendUnauthenticated } from './json-response.js';
import { handleBulkData, isBulkDataPath } from './bulkdata-route.js';
import { handleDownload, isDownloadPath } from './download-route.js';
import { handlePng, isPngPath, renderingKeyPrefix } from './png-route.js';
import { handleZip, isZipPath } from './zip-route.js';
import { createGraphqlHandler, type Services } from './yoga.js';
import { GraphqlAnswerCache, isCacheableRequest, type YogaNodeHandler } from './graphql-answer-cache.js';
import { CorsPolicy } from './cors.js';
import { RateLimiter } from './rate-limit.js';
import { type RequestTarget, RequestTargets } from './request-targets.js';
import { createLogger, type Logger, serializeError } from '../observability/logger.js';
import { meterRenders, meterUploads } from '../observability/metered.js';
import { Metrics } from '../observability/metrics.js';
import { currentRequestContext, type RequestContext, requestContextOf, runWhileInContext, startRequestContext } from '../observability/request-context.js';
import type { DestinationStream } from 'pino';

export interface App {
  readonly server: Server;
  /** Stops accepting connections, lets requests in flight finish, stops the render workers, writes pending audit events, closes the database. */
  close(): Promise<void>;
  /** Render and PNG cache counters (tests, monitoring); no ids, names or patient data. */
  renderStats(): { pool: ReturnType<RenderPool['stats']>; cache: PngCacheStats };
  /** What the startup check found and repaired before listening (src/storage/repair.ts). */
  readonly startupRepair: RepairReport;
  /** The JSON logger (main.ts logs start and stop through it). */
  readonly logger: Logger;
  /** DATA_DIR/spool: where main.ts has graphql-upload-ts spool uploads (emptied by the startup check). */
  readonly uploadSpoolDir: string;
  /** Prometheus metrics served at GET /metrics. */
  readonly metrics: Metrics;
  /** Signs and verifies the companion URLs (tests sign hand-built URLs with it). */
  readonly urlSigner: UrlSigner;
}

export interface AppOptions {
  /**
   * Where unexpected errors go (default: the logger, without patient data unless LOG_PATIENT_DATA),
   * with the request's id when one is known (else the current GraphQL request's, if any).
   */
  readonly logError?: (err: unknown, reqId?: string) => void;
  /** Where JSON log lines go (default: stdout). */
  readonly logDestination?: DestinationStream;
  /** Who a verified signed URL acts as (default: the users and api_tokens tables, src/auth/signed-url-principal.ts). */
  readonly principalForSignedUrl?: PrincipalForSignedUrl;
  /** Longest wait of an audit event in memory (default 250 ms; tests lengthen it). */
  readonly auditFlushIntervalMs?: number;
  /** The clock (unix ms) of signed URLs and the GraphQL answer cache (default Date.now; tests move it). */
  readonly now?: () => number;
  /** How the database's write-ahead log is flushed (tests make it fail); default fdatasync (src/storage/wal-sync.ts). */
  readonly walSyncFile?: SyncFile;
}


const CSRF_HEADERS = ['apollo-require-preflight', 'x-graphql-yoga-csrf'];

export async function createApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = createLogger({ level: config.logLevel, ...(options.logDestination ? { destination: options.logDestination } : {}) });
  const logError =
    options.logError ??
    ((err: unknown, reqId?: string) => logger.error({ reqId: reqId ?? currentRequestContext()?.id, err: serializeError(err, config.logPatientData) }, 'unexpected error'));
  // WAL checkpoints in a worker thread: their fsyncs stay off the event loop (wal-checkpointer.ts).
  const database = openDatabase(config.dataDir, {
    backgroundCheckpoints: { onError: logError },
    ...(options.walSyncFile ? { syncFile: options.walSyncFile } : {}),
  });
  const writesFailed = () => database.walSync.failed;
  const blobs = new LocalBlobStore(config.dataDir);
  const files = new DicomFileRepository(database.db);
  const apiTokens = new ApiTokenRepository(database.db);
  const authenticator = new Authenticator(config.auth, apiTokens);
  const urlSigner = new UrlSigner(await loadUrlSigningKey({ secret: config.urlSigningSecret, dataDir: config.dataDir }), {
    ttlSeconds: config.signedUrlTtlSeconds,
    ...(options.now ? { now: options.now } : {}),
  });
  const signedUrlPrincipal =
    options.principalForSignedUrl ?? principalForSignedUrl(new UserRepository(database.db), apiTokens, { requireToken: config.auth === 'token' });
  // Repeated fetches of one signed URL skip the HMAC; expiry and the principal are checked every time.
  const verifiedUrls = new VerifiedUrlCache(urlSigner);
  // Files stored before the catalog existed (migration 0001) are placed in it once; a no-op after.
  await backfillCatalog(files.catalog, blobs, (id, err) => logError(new Error(`catalog backfill: file ${id}: ${String(err)}`)));
  // Crash safety (README): temp files, orphan blobs, rows without blob, catalog counters; before listening.
  const startupRepair = await repairDataDir({ dataDir: config.dataDir, blobs, db: database.db, catalog: files.catalog });
  logRepairReport(startupRepair, logger);
  const headers = new HeaderCache(blobs, { maxEntries: config.headerCacheEntries, maxBytes: config.headerCacheBytes });
  // Upload validation runs in worker threads with a time and memory limit: crafted files cannot stall the event loop.
  const parsePool = new ParsePool({
    workers: config.parseWorkers,
    timeoutMs: config.parseTimeoutMs,
    maxHeapMb: config.parseMaxHeapMb,
    maxInflatedBytes: 512 * 1024 * 1024,
    maxInflateRatio: config.maxInflateRatio,
  });
  const ingest = new DicomIngest(
    blobs,
    files,
    config.maxUploadBytes,
    (path) => parsePool.parse(path),
    (path) => parsePool.inspect(path),
  );
  const uploads = new UploadIngest(ingest, {
    tempDir: join(config.dataDir, 'tmp'),
    maxUploadBytes: config.maxUploadBytes,
    maxArchiveBytes: config.maxArchiveBytes,
    maxZipRatio: config.maxZipRatio,
  });
  const events = createDicomEvents();
  // Batched: one transaction per ~250 ms or 2,000 events, not an fsync per request (its WAL sync
  // runs in the thread pool: wal-sync.ts); close() writes what is left.
  const auditLog = new AuditLog(database.db, {
    logError,
    ...(options.auditFlushIntervalMs !== undefined ? { flushIntervalMs: options.auditFlushIntervalMs } : {}),
  });
  const cache = new PngCache(config.pngCacheBytes);
  const deletionDeps = { files, blobs, headers, events, evictRenderings: (sha256: string) => cache.evict(renderingKeyPrefix(sha256)) };
  /** A request's services, scoped to its principal's user: it sees, stores and deletes that user's files only. */
  const servicesFor = (principal: Principal): Services => {
    const owned = files.forOwner(principal.userId);
    return {
      files: owned,
      headers,
      ingest: ingest.forOwner(principal.userId),
      uploads: uploads.forOwner(principal.userId),
      events,
      deletions: new FileDeletions({ ...deletionDeps, catalog: owned.catalog }),
      apiTokens,
      auditLog,
      urlSigner,
      maxFilesPerRequest: config.maxFilesPerRequest,
    };
  };
  // Read at scrape time: the pool is created below.
  const metrics = new Metrics(
    () => ({ pool: pool.stats(), cache: cache.stats() }),
    () => headers.stats(),
  );
  meterUploads(uploads, metrics);
  const yoga = createGraphqlHandler(
    servicesFor,
    {
      publicUrl: config.publicUrl,
      logError,
      metrics,
      limits: {
        maxDepth: config.graphqlMaxDepth,
        maxAliases: config.graphqlMaxAliases,
        maxCost: config.graphqlMaxCost,
        maxTokens: config.graphqlMaxTokens,
        maxDirectives: config.graphqlMaxDirectives,
        fieldSuggestions: config.graphqlFieldSuggestions,
      },
    },
  );
  /**
   * Yoga runs inside the request's async context: an unexpected error in a resolver, reported far
   * from any request object, is still logged with its request's id. Only yoga: an AsyncLocalStorage
   * context makes every asynchronous resource of a request (ticks, writes, timers) pay for its
   * propagation, and the companion routes and the answer cache's hits have their request at hand.
   */
  const yogaInContext: YogaNodeHandler = {
    handleNodeRequestAndResponse: (req, res, context) => {
      const request = requestContextOf(req);
      return request ? runWhileInContext(request, async () => yoga.handleNodeRequestAndResponse(req, res, context)) : yoga.handleNodeRequestAndResponse(req, res, context);
    },
  };
  const answerCache =
    config.graphqlAnswerCacheBytes > 0
      ? new GraphqlAnswerCache({
          maxBytes: config.graphqlAnswerCacheBytes,
          now: () => urlSigner.currentTime(),
          yoga: yogaInContext,
          versions: files.versions,
          auditLog,
          metrics,
        })
      : undefined;
  const pool = new RenderPool({
    workers: config.renderWorkers,
    timeoutMs: config.renderTimeoutMs,
    maxQueue: config.renderQueue,
    maxOldGenerationSizeMb: config.renderMaxHeapMb,
    maxYoungGenerationSizeMb: 64,
  });

  meterRenders(pool, metrics);
  const cors = new CorsPolicy(config.corsOrigins);
  const rateLimiter = config.rateLimitPerMinute > 0 ? new RateLimiter({ perMinute: config.rateLimitPerMinute, burst: config.rateLimitBurst }) : undefined;

  /** The audit recorder of a companion-route request: its principal (set in front()) and id. */
  function routeAudit(req: IncomingMessage): RequestAudit {
    const request = requestContextOf(req);
    if (!request?.principal) throw new Error('request reached a route without a principal');
    return auditLog.forRequest(request.principal, request.id);
  }

  /** Open subscription streams (server-sent events): they never end by themselves, so close() ends them. */
  const eventStreams = new Set<ServerResponse>();

  /**
   * `target`: the request target as the server parsed it (undefined when malformed: parsed again
   * here, which throws). Synchronous until a route needs to wait (a 304 makes no promise);
   * throws or rejects with what the route threw.
   */
  function handle(req: IncomingMessage, res: ServerResponse, target: RequestTarget | undefined): void | Promise<void> {
    const url = target?.url ?? new URL(req.url ?? '/', 'http://localhost');
    if (/text\/event-stream/i.test(req.headers.accept ?? '')) {
      eventStreams.add(res);
      res.once('close', () => eventStreams.delete(res));
    }
    const method = req.method ?? 'GET';
    if (url.pathname === '/healthz' && (method === 'GET' || method === 'HEAD')) return sendHealth(res, writesFailed);
    /** The caller's files only (the principal front() set): another user's id answers 404 like a missing one. */
    const owned = () => {
      const principal = requestContextOf(req)?.principal;
      if (!principal) throw new Error('request reached a file route without a principal');
      return files.forOwner(principal.userId);
    };
    if (isPngPath(url.pathname) && (method === 'GET' || method === 'HEAD')) {
      return handlePng(req, res, target ?? { url, route: 'png', png: undefined }, {
        files: owned(),
        blobs,
        pool,
        cache,
        maxRenderPixels: config.maxRenderPixels,
        urlExpiresAt: requestContextOf(req)?.urlExpiresAt,
        audit: routeAudit(req),
      });
    }
    if (method === 'GET' || method === 'HEAD') {
      if (isDownloadPath(url.pathname)) return handleDownload(req, res, url, { files: owned(), blobs, audit: routeAudit(req) });
      if (isBulkDataPath(url.pathname)) return handleBulkData(req, res, url, { files: owned(), blobs, headers, audit: routeAudit(req) });
      if (isZipPath(url.pathname)) return handleZip(req, res, url, { files: owned(), blobs, audit: routeAudit(req) });
    }
    return handleGraphql(req, res, url, method);
  }

  /** Multipart uploads, GraphQL (the answer cache, then yoga) and the 404 of unknown paths. */
  async function handleGraphql(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
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
    // Every other path is unknown: the same JSON 404 as the companion routes (yoga's is empty).
    if (url.pathname !== '/graphql') return sendJsonError(res, 404, 'NOT_FOUND', 'Not found');
    const request = requestContextOf(req);
    if (answerCache && request && isCacheableRequest(req)) return answerCache.handle(req, res, request);
    await (request ? runWhileInContext(request, async () => yoga.requestListener(req, res)) : yoga.requestListener(req, res));
  }

  /** Routes answered outside GraphQL for links (images, downloads, bulk data, ZIPs): their URLs are signed. */
  function isCompanionRoute(route: string): boolean {
    return route === 'png' || route === 'download' || route === 'bulkdata' || route === 'zip';
  }

  /** Low-cardinality route name for logs and metrics (never the query string: cursors and filters may hold patient data). */
  function routeOf(pathname: string): string {
    if (pathname === '/graphql') return 'graphql';
    if (pathname === '/healthz' || pathname === '/readyz' || pathname === '/metrics') return pathname.slice(1);
    if (isPngPath(pathname)) return 'png';
    if (isDownloadPath(pathname)) return 'download';
    if (isBulkDataPath(pathname)) return 'bulkdata';
    if (isZipPath(pathname)) return 'zip';
    return 'other';
  }

  const targets = new RequestTargets(routeOf);

  /** The log line and metrics of a request, when its response closes ('close' listener: `this` is the response). */
  function logRequest(this: ServerResponse): void {
    const req = this.req;
    const request = requestContextOf(req);
    if (!request) return;
    const seconds = Number(process.hrtime.bigint() - request.startedAt) / 1e9;
    const status = this.writableFinished ? this.statusCode : 499; // 499: the client went away first
    const method = req.method ?? 'GET';
    metrics.request(request.route, method, status, seconds);
    // The line is only built when it is written (the benchmark and many deployments log at warn).
    if (!logger.isLevelEnabled('info')) return;
    const line: Record<string, unknown> = { reqId: request.id, method, route: request.route };
    // Ids in paths are fine; an unknown path could be anything a client typed.
    if (request.route !== 'other') line.path = request.path;
    line.status = status;
    line.durationMs = Math.round(seconds * 1e4) / 10;
    // Who: the user's id and the token's public id (neither is patient data nor a secret).
    if (request.principal) {
      line.userId = request.principal.userId;
      if (request.principal.tokenId) line.tokenId = request.principal.tokenId;
    }
    if (request.operationName !== undefined) line.operationName = request.operationName;
    if (request.operationType !== undefined) line.operationType = request.operationType;
    logger.info(line, 'request');
  }

  /**
   * Routes and checks in front of the application routes: CORS, authentication, rate limit,
   * readiness, metrics. True when it answered. Synchronous except for readiness and metrics (no
   * promise per request for the common case).
   */
  function front(req: IncomingMessage, res: ServerResponse, request: RequestContext, parsed: URL | undefined): boolean | Promise<boolean> {
    if (cors.apply(req, res)) return true;
    const method = req.method ?? 'GET';
    const clientKey = rateLimiter ? `ip:${req.socket.remoteAddress ?? 'unknown'}` : '';
    let rateKey = clientKey;
    // Local mode: every request acts as the built-in local user (loopback HOST only: src/config.ts).
    if (config.auth === 'none') request.principal = LOCAL_PRINCIPAL;
    if (request.route === 'healthz' || request.route === 'readyz') {
      // Liveness and readiness stay open (load balancers, orchestrators); they reveal no data.
    } else if (isCompanionRoute(request.route)) {
      // Image, download, bulk data and ZIP routes: links a browser follows (<img src>, downloads)
      // carry no Authorization header. The URL is the credential (pngUrl, downloadUrl, BulkDataURI,
      // zipUrl are signed): verified before anything reads the database or a file; its claims name
      // the principal the route acts as (owner scoping reads request.principal).
      const url = parsed ?? new URL(req.url ?? '/', 'http://localhost');
      // Keyed by the exact target: the same string always parses (and so verifies) the same way.
      const verified = parsed ? verifiedUrls.verify(req.url ?? '/', parsed) : urlSigner.verify(url.pathname, url.searchParams);
      const principal = verified.ok ? signedUrlPrincipal(verified.userId, verified.tokenId) : undefined;
      // In token mode a URL must name its token (principalForSignedUrl's requireToken).
      if (!verified.ok || !principal) {
        const decision = rateLimiter?.take(clientKey);
        if (decision && !decision.allowed) return rejectRateLimited(req, res, decision.retryAfterSeconds);
        const code = verified.ok ? 'INVALID_SIGNATURE' : verified.code;
        const message =
          code === 'URL_EXPIRED'
            ? 'This URL has expired; query the API again for a fresh one'
            : code === 'MISSING_SIGNATURE'
              ? 'This URL must be signed; use the URL the API returned'
              : 'This URL is not valid: it was altered, or its signing key or API token is no longer valid';
        req.resume();
        sendJsonError(res, 403, code, message);
        return true;
      }
      request.principal = principal;
      request.urlExpiresAt = verified.expiresAt;
      if (principal.tokenId !== null) rateKey = `token:${principal.tokenId}`;
    } else {
      // GraphQL (JSON and multipart, GET and POST, subscriptions), /metrics and unknown paths.
      const result = authenticator.authenticate(req.headers.authorization);
      if (isAuthFailure(result)) {
        // Failed attempts spend the client address's bucket: a brake on guessing tokens.
        const decision = rateLimiter?.take(clientKey);
        if (decision && !decision.allowed) return rejectRateLimited(req, res, decision.retryAfterSeconds);
        // The body (a multipart upload, say) is not read at all: once the answer is out, the
        // connection is closed (a 200 MB upload is refused in milliseconds, not after its transfer).
        sendUnauthenticated(res, result.message);
        res.once('finish', () => req.destroy());
        return true;
      }
      request.principal = result;
      if (result.tokenId !== null) rateKey = `token:${result.tokenId}`;
    }
    const probe = request.route === 'healthz' || request.route === 'readyz' || request.route === 'metrics';
    if (!probe && rateLimiter) {
      const decision = rateLimiter.take(rateKey);
      if (!decision.allowed) return rejectRateLimited(req, res, decision.retryAfterSeconds);
    }
    if (method !== 'GET' && method !== 'HEAD') return false;
    if (request.route === 'readyz') {
      return sendReadiness(res, {
        pingDatabase: () => database.db.$client.prepare('SELECT 1').get(),
        dataDir: config.dataDir,
        minFreeDiskBytes: config.minFreeDiskBytes,
        writesFailed,
      }).then(() => true);
    }
    if (request.route === 'metrics') {
      // Open in local mode (loopback only); with tokens, an admin's token only.
      if (!request.principal?.isAdmin) {
        sendJsonError(res, 403, 'FORBIDDEN', 'Metrics are for administrators: use an admin user\'s token');
        return true;
      }
      return metrics.registry.metrics().then((body) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
        res.end(body);
        return true;
      });
    }
    return false;
  }

  function rejectRateLimited(req: IncomingMessage, res: ServerResponse, retryAfter: number): true {
    metrics.rateLimited.inc();
    req.resume();
    sendJsonError(res, 429, 'RATE_LIMITED', `Too many requests; retry after ${retryAfter} s`, { 'retry-after': String(retryAfter) });
    return true;
  }

  /** One request: front(), then the routes; errors (thrown or rejected) become answers, logged with the request's id. */
  function serve(req: IncomingMessage, res: ServerResponse, request: RequestContext, target: RequestTarget | undefined): void {
    let routed: void | Promise<void>;
    try {
      const answered = front(req, res, request, target?.url);
      if (answered === true) return;
      routed = answered === false ? handle(req, res, target) : answered.then((done) => (done ? undefined : handle(req, res, target)));
    } catch (err) {
      sendError(res, err, (e) => logError(e, request.id));
      return;
    }
    routed?.catch((err: unknown) => sendError(res, err, (e) => logError(e, request.id)));
  }

  const server = createServer((req, res) => {
    const request = startRequestContext(req);
    // Parsed once for every stage (front's signature check, the routes), and once per distinct
    // target string (request-targets.ts); undefined when malformed: logged as route "other",
    // handle() answers it.
    const target = targets.get(req.url ?? '/');
    if (target !== undefined) {
      request.path = target.url.pathname;
      request.route = target.route;
    }
    res.setHeader('x-request-id', request.id);
    res.on('close', logRequest); // emitted once per response; one shared listener, no closure per request
    serve(req, res, request, target);
  });
  // Idle keep-alive sockets outlive the clients' own idle timeouts (undici: 4 s), so the client,
  // not the server, closes them: a request is never sent on a socket the server is closing.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  let closing: Promise<void> | undefined;
  return {
    server,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        for (const res of eventStreams) res.destroy();
      })
        .then(() => Promise.all([pool.close(), parsePool.close()]))
        .then(() => {
          auditLog.close(); // the last events, before the database closes
          return database.closeGracefully();
        });
      return closing;
    },
    renderStats: () => ({ pool: pool.stats(), cache: cache.stats() }),
    startupRepair,
    logger,
    uploadSpoolDir: blobs.uploadSpoolDir,
    metrics,
    urlSigner,
  };
}
