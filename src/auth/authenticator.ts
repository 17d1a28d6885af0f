/**
 * Who a request acts as. Local mode (AUTH=none, loopback HOST only): the built-in local user,
 * no header needed. Token mode (AUTH=token): `Authorization: Bearer <token>`, parsed strictly
 * (RFC 6750: the scheme is case-insensitive, one token, nothing else) and checked against the
 * api_tokens table. Failures carry a message for the client, never a hint whether the token exists.
 */
import type { AuthMode } from '../config.js';
import type { ApiTokenRepository } from '../storage/api-tokens.js';
import { LOCAL_PRINCIPAL, type Principal } from './principal.js';

export interface AuthFailure {
  readonly failed: true;
  /** What the client did wrong, without saying whether a token exists. */
  readonly message: string;
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

export function isAuthFailure(result: Principal | AuthFailure): result is AuthFailure {
  return 'failed' in result;
}

export class Authenticator {
  constructor(
    readonly mode: AuthMode,
    private readonly tokens: ApiTokenRepository,
  ) {}

  authenticate(authorizationHeader: string | undefined): Principal | AuthFailure {
    if (this.mode === 'none') return LOCAL_PRINCIPAL;
    if (authorizationHeader === undefined || authorizationHeader.trim() === '') {
      return { failed: true, message: 'Authentication required: send the header "Authorization: Bearer <token>"' };
    }
    const match = BEARER.exec(authorizationHeader);
    if (!match) return { failed: true, message: 'Malformed Authorization header: expected "Bearer <token>"' };
    const owner = this.tokens.authenticate(match[1] as string);
    if (!owner) return { failed: true, message: 'Invalid, expired or revoked API token' };
    return owner;
  }
}
