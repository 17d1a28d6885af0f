/**
 * Signs hand-built or edited companion URLs with the test server's own signer, as the API would
 * have signed them: tests that probe a route's answers to other parameters (wrong frame, unknown
 * id, …) get past the signature check without weakening it.
 */
import { LOCAL_USER_ID } from '../../src/storage/schema.js';
import { SIGNATURE_PARAMS, type UrlClaims } from '../../src/auth/url-signer.js';
import type { TestServer } from './server.js';

const LOCAL: UrlClaims = { userId: LOCAL_USER_ID, tokenId: null };

/** `url` (absolute, or a path on the server) without its u/k/exp/sig, freshly signed for `claims`. */
export function signUrl(server: Pick<TestServer, 'url' | 'app'>, url: string, claims: UrlClaims = LOCAL): string {
  const parsed = new URL(url, server.url);
  for (const name of SIGNATURE_PARAMS) parsed.searchParams.delete(name);
  const query = parsed.searchParams.toString();
  return `${parsed.origin}${server.app.urlSigner.sign(`${parsed.pathname}${query ? `?${query}` : ''}`, claims)}`;
}

/** `url` without its signature parameters (to compare a signed URL with the route path it names). */
export function withoutSignature(url: string): string {
  const parsed = new URL(url);
  for (const name of SIGNATURE_PARAMS) parsed.searchParams.delete(name);
  return parsed.href;
}
