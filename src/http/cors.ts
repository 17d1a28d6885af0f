/**
 * CORS for every route (GraphQL, images, downloads) from one allow-list (CORS_ORIGINS). Empty: no
 * CORS headers at all, so only same-origin pages can read responses. Credentials are never
 * allowed: the API has no cookies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOWED_METHODS = 'GET, HEAD, POST, OPTIONS';
const ALLOWED_HEADERS = 'authorization, content-type, accept, apollo-require-preflight, x-graphql-yoga-csrf, x-request-id, range, if-none-match';
const EXPOSED_HEADERS = 'content-length, content-disposition, etag, retry-after, www-authenticate, x-request-id';

export class CorsPolicy {
  private readonly any: boolean;
  private readonly origins: ReadonlySet<string>;

  constructor(origins: readonly string[]) {
    this.any = origins.includes('*');
    this.origins = new Set(origins);
  }

  /**
   * Sets the CORS response headers for an allowed origin. Returns true when the request was a
   * preflight and has been answered (204 when allowed, 403 when the origin is not).
   */
  apply(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    const preflight = req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    if (origin === undefined) return false;
    const allowed = this.any || this.origins.has(origin);
    if (allowed) {
      res.setHeader('access-control-allow-origin', this.any ? '*' : origin);
      if (!this.any) res.setHeader('vary', 'Origin');
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    }
    if (!preflight) return false;
    if (!allowed) {
      res.writeHead(403, { 'content-length': 0, 'cache-control': 'no-store' });
      res.end();
      return true;
    }
    res.writeHead(204, {
      'access-control-allow-methods': ALLOWED_METHODS,
      'access-control-allow-headers': ALLOWED_HEADERS,
      'access-control-max-age': '600',
      'content-length': 0,
    });
    res.end();
    return true;
  }
}
