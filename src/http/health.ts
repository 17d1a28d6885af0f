import type { ServerResponse } from 'node:http';

/** GET /healthz: the process serves requests and its database was migrated before listening. */
export function sendHealth(res: ServerResponse): void {
  const body = JSON.stringify({ status: 'ok' });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
