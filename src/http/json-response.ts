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

/** Maps a thrown value to a JSON error: AppErrors keep their status and code, anything else is masked. */
export function sendError(res: ServerResponse, err: unknown, log: (err: unknown) => void): void {
  if (err instanceof AppError) return sendJsonError(res, err.httpStatus, err.code, err.message);
  log(err);
  if (!res.headersSent) sendJsonError(res, 500, 'INTERNAL_SERVER_ERROR', 'Unexpected error');
  else res.destroy();
}
