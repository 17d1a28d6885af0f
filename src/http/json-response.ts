import type { ServerResponse } from 'node:http';
import { AppError } from '../errors.js';

/** Writes `{ "error": { code, message } }` with the given status. */
export function sendJsonError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

/**
 * 401 for a request without a valid API token: `WWW-Authenticate: Bearer` (RFC 6750) and a
 * GraphQL-shaped body, so GraphQL clients (Apollo, urql) find `extensions.code` where they look.
 * The connection is closed: an unread request body (an upload) is not worth receiving.
 */
export function sendUnauthenticated(res: ServerResponse, message: string): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code: 'UNAUTHENTICATED' } }] });
  res.writeHead(401, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'www-authenticate': 'Bearer realm="dicomql"',
    connection: 'close',
  });
  res.end(body);
}

/** Maps a thrown value to a JSON error: AppErrors keep their status and code, anything else is masked. */
export function sendError(res: ServerResponse, err: unknown, log: (err: unknown) => void): void {
  if (err instanceof AppError) return sendJsonError(res, err.httpStatus, err.code, err.message);
  log(err);
  if (!res.headersSent) sendJsonError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error');
  else res.destroy();
}
