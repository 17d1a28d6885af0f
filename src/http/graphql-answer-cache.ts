/**
 * Answers of GraphQL queries kept in memory and sent again without running yoga
 * (GRAPHQL_ANSWER_CACHE_BYTES; README "GraphQL answer cache").
 *
 * Which requests: `POST /graphql` with a JSON body of at most MAX_BODY_BYTES (Content-Length
 * given), not an event stream or multipart answer. The key is everything the answer depends on
 * besides the user's data: the principal (user id and name, admin flag, API token id), the
 * Accept, Accept-Encoding, Content-Type and Host headers (Host makes the absolute URLs without
 * PUBLIC_URL), and the raw body text (query, variables, operation name).
 *
 * What is stored: the status, headers and body yoga produced, but only when the operation was a
 * query, ran without errors, answered 200, and every field that ran left it cacheable
 * (src/graphql/answer-cache-hints.ts: the viewer, API tokens and the audit trail do not).
 *
 * When an entry is used:
 * - its owner's data version (src/storage/data-versions.ts, bumped after every committed upload
 *   or delete of the user's files, before that mutation answers) is the one read before the
 *   answer was computed; any write since makes it a miss;
 * - now is inside the instants at which its signed URLs' bucketed expiry is what a fresh
 *   execution would sign (a hit returns exactly the URLs a miss would);
 * - the audit events the execution recorded (READ of each header) are recorded again for this
 *   request and its id, so the audit trail is the same with and without the cache; the log line
 *   and dicomql_graphql_operations_total count the operation as if it ran.
 *
 * Files are content-addressed and never change in place, so attribute answers stay correct as
 * long as the set of the user's files does: that is what the data version tracks.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { Principal } from '../auth/principal.js';
import { AnswerCacheHints } from '../graphql/answer-cache-hints.js';
import type { Metrics } from '../observability/metrics.js';
import type { RequestContext } from '../observability/request-context.js';
import type { AuditAction, AuditLog } from '../storage/audit-log.js';
import type { DataVersions } from '../storage/data-versions.js';

/** Larger request bodies go to yoga directly (they are not typical repeated queries). */
export const MAX_BODY_BYTES = 64 * 1024;

interface Entry {
  /** The owner's data version the answer was computed at. */
  readonly version: number;
  /** Valid at instants t (unix ms) with validAfter < t ≤ validUntil. */
  readonly validAfter: number;
  readonly validUntil: number;
  /** Name, value, name, value…: writeHead takes a flat array without walking an object's keys. */
  readonly headers: readonly string[];
  readonly body: Buffer;
  readonly audited: readonly { readonly action: AuditAction; readonly fileId: string }[];
  readonly operationName: string | undefined;
  readonly operationType: string | undefined;
  readonly size: number;
}

export interface AnswerCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
  readonly bytes: number;
}

/** The part of the yoga instance used here: run one node request, return its fetch Response. */
export interface YogaNodeHandler {
  handleNodeRequestAndResponse(req: IncomingMessage, res: ServerResponse, context: { req: IncomingMessage; res: ServerResponse }): Promise<Response> | Response;
}

export interface GraphqlAnswerCacheOptions {
  /** Bound of the stored answers (bodies, keys, headers); > 0. */
  readonly maxBytes: number;
  /** The clock of the URL signer (unix ms): validity windows are in its time. */
  readonly now: () => number;
  readonly yoga: YogaNodeHandler;
  readonly versions: DataVersions;
  readonly auditLog: AuditLog;
  readonly metrics?: Metrics;
}

const hintsByRequest = new WeakMap<IncomingMessage, AnswerCacheHints>();

/** The hints of a request the answer cache is running (yoga.ts puts them in the context). */
export function answerCacheHintsOf(req: IncomingMessage | undefined): AnswerCacheHints | undefined {
  return req ? hintsByRequest.get(req) : undefined;
}

/** Whether the request may be answered from (and stored in) the cache; the others go to yoga as before. */
export function isCacheableRequest(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return false;
  if (/text\/event-stream|multipart\//i.test(req.headers.accept ?? '')) return false;
  if (req.headers['content-encoding'] !== undefined || req.headers['transfer-encoding'] !== undefined) return false;
  const length = Number(req.headers['content-length']);
  return Number.isInteger(length) && length > 0 && length <= MAX_BODY_BYTES;
}

export class GraphqlAnswerCache {
  private readonly entries: LRUCache<string, Entry>;
  private hits = 0;
  private misses = 0;

  constructor(private readonly options: GraphqlAnswerCacheOptions) {
    this.entries = new LRUCache<string, Entry>({
      maxSize: options.maxBytes,
      // One answer never takes more than an eighth of the cache.
      maxEntrySize: Math.max(1, Math.floor(options.maxBytes / 8)),
      sizeCalculation: (entry) => entry.size,
    });
  }

  stats(): AnswerCacheStats {
    return { hits: this.hits, misses: this.misses, entries: this.entries.size, bytes: this.entries.calculatedSize };
  }

  /**
   * Answers a request isCacheableRequest() accepted and that front() authenticated: from the
   * cache, else by running yoga on the body read here (and storing the answer when allowed).
   */
  async handle(req: IncomingMessage, res: ServerResponse, request: RequestContext): Promise<void> {
    const principal = request.principal;
    if (!principal) throw new Error('request reached GraphQL without a principal');
    const body = await readBody(req);
    const key = cacheKey(principal, req, body);
    const version = this.options.versions.of(principal.userId);
    const entry = this.lookup(key, version);
    if (entry) {
      this.hits++;
      this.options.metrics?.graphqlAnswerCache.inc({ result: 'hit' });
      this.replay(entry, principal, request);
      send(res, 200, entry.headers, entry.body);
      return;
    }
    this.misses++;
    this.options.metrics?.graphqlAnswerCache.inc({ result: 'miss' });
    const hints = new AnswerCacheHints();
    hintsByRequest.set(req, hints);
    // whatwg-node builds the fetch Request from a body already read (as for multipart's parsed body).
    (req as IncomingMessage & { body?: unknown }).body = body;
    const response = await this.options.yoga.handleNodeRequestAndResponse(req, res, { req, res });
    const answer = Buffer.from(await response.arrayBuffer());
    const headers: string[] = [];
    response.headers.forEach((value, name) => {
      headers.push(name, value);
    });
    send(res, response.status, headers, answer);
    const now = this.options.now();
    const validNow = hints.validAfter < now && now <= hints.validUntil;
    if (response.status === 200 && hints.operationType === 'query' && hints.cacheable && validNow) {
      const size = answer.length + key.length * 2 + 64 * hints.audited.length + 512;
      this.entries.set(key, {
        version,
        validAfter: hints.validAfter,
        validUntil: hints.validUntil,
        headers,
        body: answer,
        audited: [...hints.audited],
        operationName: hints.operationName,
        operationType: hints.operationType,
        size,
      });
    }
  }

  private lookup(key: string, version: number): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = this.options.now();
    if (entry.version !== version || !(entry.validAfter < now && now <= entry.validUntil)) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** What running the query would have done besides answering: audit events, log fields, metrics. */
  private replay(entry: Entry, principal: Principal, request: RequestContext): void {
    if (entry.audited.length > 0) {
      const audit = this.options.auditLog.forRequest(principal, request.id);
      for (const { action, fileId } of entry.audited) audit.record(action, fileId);
    }
    request.operationName = entry.operationName;
    request.operationType = entry.operationType;
    this.options.metrics?.operation(entry.operationName, entry.operationType, true);
  }
}

/**
 * Who asks, the headers that shape the answer, then the body. Fields are joined with NUL, which no
 * HTTP header value can hold (Node's parser refuses it): a field's end is unambiguous, and the body,
 * last, may hold anything. A missing header is one NUL-free marker no present value can equal ("\u0001"
 * is a control character headers cannot hold either); the user name is JSON-quoted (it comes from the
 * users table, not a header).
 */
export function cacheKey(principal: Principal, req: IncomingMessage, body: string): string {
  const h = req.headers;
  return `${principal.userId}\u0000${principal.tokenId ?? '\u0001'}\u0000${JSON.stringify(principal.userName)}\u0000${principal.isAdmin ? 1 : 0}\u0000${h.accept ?? '\u0001'}\u0000${h['accept-encoding'] ?? '\u0001'}\u0000${h['content-type'] ?? '\u0001'}\u0000${h.host ?? '\u0001'}\u0000${body}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
    req.once('close', () => {
      if (!req.complete) reject(new Error('request body aborted'));
    });
  });
}

function send(res: ServerResponse, status: number, headers: readonly string[], body: Buffer): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, headers as string[]); // writeHead reads the array, never changes it
  res.end(body);
}
