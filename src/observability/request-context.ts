/**
 * What the server knows about one HTTP request, for its log line and metrics. Shared between the
 * node:http handler and the yoga plugins through the request object, with the caller's identity.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth/principal.js';

export interface RequestContext {
  /** The client's `x-request-id` when it is sane, else a generated UUID; echoed in the response. */
  readonly id: string;
  readonly startedAt: bigint;
  /** Low-cardinality route name (metrics label): graphql, png, download, bulkdata, zip, healthz, readyz, metrics, other. */
  route: string;
  operationName?: string;
  operationType?: string;
  /** Who the request acts as, once authenticated (src/http/app.ts); undefined before. */
  principal?: Principal;
}

const contexts = new WeakMap<IncomingMessage, RequestContext>();

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function startRequestContext(req: IncomingMessage): RequestContext {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  const context: RequestContext = { id, startedAt: process.hrtime.bigint(), route: 'other' };
  contexts.set(req, context);
  return context;
}

export function requestContextOf(req: IncomingMessage | undefined): RequestContext | undefined {
  return req ? contexts.get(req) : undefined;
}

const current = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` with `context` as the current request (for error logs far from the handler). */
export function runInRequestContext<T>(context: RequestContext, fn: () => T): T {
  return current.run(context, fn);
}

export function currentRequestContext(): RequestContext | undefined {
  return current.getStore();
}
