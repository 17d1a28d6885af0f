/**
 * What the server knows about one HTTP request, for its log line and metrics. Shared between the
 * node:http handler and the yoga plugins through the request object, with the caller's identity.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth/principal.js';

export interface RequestContext {
  /** The client's `x-request-id` when it is sane, else a generated id (newRequestId); echoed in the response. */
  readonly id: string;
  readonly startedAt: bigint;
  /** Low-cardinality route name (metrics label): graphql, png, download, bulkdata, zip, healthz, readyz, metrics, other. */
  route: string;
  /** The request target's path (percent-encoded, no query): the log line's `path`. */
  path: string;
  operationName?: string;
  operationType?: string;
  /** Who the request acts as, once authenticated (src/http/app.ts); undefined before. */
  principal?: Principal;
  /** When the request's signed URL expires (unix ms), once verified (companion routes). */
  urlExpiresAt?: number;
}

/** Kept on the request object itself: a WeakMap entry per request costs more (ephemeron tables in every GC). */
const CONTEXT = Symbol('dicomql.requestContext');
type WithContext = IncomingMessage & { [CONTEXT]?: RequestContext };

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The largest counter value newRequestId() uses before it draws a new prefix (12 hex digits). */
const MAX_COUNTER = 0xffff_ffff_ffff;
let idPrefix = '';
let idCounter = MAX_COUNTER;

/**
 * A new request id, shaped like a UUID (8-4-4-4-12 hex): a random per-process prefix (a v4 UUID's
 * first 20 hex digits, drawn once) and a counter in the last 12. Unique within the process, and
 * across processes as unlikely to collide as random 74-bit prefixes (20 hex digits less the
 * version and variant bits); not secret (clients choose their own ids with x-request-id anyway).
 * A counter and a concatenation instead of a randomUUID() per request.
 */
export function newRequestId(): string {
  if (idCounter >= MAX_COUNTER) {
    idPrefix = randomUUID().slice(0, 24);
    idCounter = 0;
  }
  const n = (idCounter++).toString(16);
  return idPrefix + '000000000000'.slice(n.length) + n;
}

export function startRequestContext(req: IncomingMessage): RequestContext {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : newRequestId();
  // Every field from the start: one object shape for all requests' contexts.
  const context: RequestContext = { id, startedAt: process.hrtime.bigint(), route: 'other', path: '/', operationName: undefined, operationType: undefined, principal: undefined, urlExpiresAt: undefined };
  (req as WithContext)[CONTEXT] = context;
  return context;
}

export function requestContextOf(req: IncomingMessage | undefined): RequestContext | undefined {
  return req ? (req as WithContext)[CONTEXT] : undefined;
}

const current = new AsyncLocalStorage<RequestContext>();

/** Asynchronous work running in a request context (runWhileInContext) and not finished yet. */
let inContext = 0;

/**
 * Runs `fn` with `context` as the current request (for error logs far from the handler: GraphQL
 * resolvers). Once no such work is left, the async-context hooks are switched off again: Node 20
 * keeps them on for the whole process after the first run(), and then every asynchronous resource
 * of every request (ticks, socket writes, timers) pays for propagating a context, also requests
 * that never read one (images, 304s, cached answers).
 */
export async function runWhileInContext<T>(context: RequestContext, fn: () => Promise<T>): Promise<T> {
  inContext += 1;
  try {
    return await current.run(context, fn);
  } finally {
    inContext -= 1;
    if (inContext === 0) current.disable(); // run() switches it on again
  }
}

/** Whether the async-context hooks are on (tests). */
export function requestContextsActive(): boolean {
  return inContext > 0;
}

export function currentRequestContext(): RequestContext | undefined {
  return current.getStore();
}
