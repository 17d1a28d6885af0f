/** Who a request acts as: set once per request by src/http (authentication), read by every layer above storage. */
import { LOCAL_USER_ID, LOCAL_USER_NAME } from '../storage/schema.js';

export interface Principal {
  /** users.id: owns what this request stores, and scopes everything it reads. */
  readonly userId: number;
  readonly userName: string;
  /** May query the audit trail. */
  readonly isAdmin: boolean;
  /** The API token the request authenticated with (its public id); null in local mode. */
  readonly tokenId: string | null;
}

/** Local mode (no AUTH, loopback HOST): every request acts as the built-in local user. */
export const LOCAL_PRINCIPAL: Principal = Object.freeze({ userId: LOCAL_USER_ID, userName: LOCAL_USER_NAME, isAdmin: true, tokenId: null });
