/**
 * The signed-in user and their API tokens: `viewer`, `apiTokens`, `createApiToken` (the only time
 * a token's plaintext is shown) and `revokeApiToken`. Everything is scoped to ctx.principal: another
 * user's token id answers NotFoundError, like an unknown one. In local mode the viewer is "local".
 */
import { InvalidArgumentError, NotFoundError } from '../errors.js';
import type { ApiTokenInfo, CreatedApiToken } from '../storage/api-tokens.js';
import { MAX_TOKEN_LABEL_LENGTH } from '../storage/api-tokens.js';
import { builder } from './builder.js';

interface ViewerShape {
  readonly name: string;
  readonly isAdmin: boolean;
}

const ViewerRef = builder.objectRef<ViewerShape>('Viewer').implement({
  description: 'The user this request acts as (the token\'s owner; "local" in single-user local mode).',
  fields: (t) => ({
    name: t.exposeString('name'),
    isAdmin: t.exposeBoolean('isAdmin', { description: 'May read /metrics and the audit trail.' }),
  }),
});

export const ApiTokenRef = builder.objectRef<ApiTokenInfo>('ApiToken').implement({
  description: 'An API token of the viewer (`Authorization: Bearer <token>`). The secret is never shown again after createApiToken.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The token\'s public id (the part after "dql_" and before the secret); revokeApiToken takes it.' }),
    label: t.exposeString('label', { nullable: true, description: 'What the token is for, as given when it was created.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.createdAt }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, description: 'Null: never expires.', resolve: (r) => r.expiresAt }),
    lastUsedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it last authenticated a request (recorded at most once a minute).',
      resolve: (r) => r.lastUsedAt,
    }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.revokedAt }),
    revoked: t.boolean({ resolve: (r) => r.revokedAt !== null }),
  }),
});

const CreateApiTokenInput = builder.inputType('CreateApiTokenInput', {
  description: 'At most one of expiresAt and expiresInSeconds; neither: the token never expires.',
  fields: (t) => ({
    label: t.string({ required: false, description: `What the token is for (at most ${MAX_TOKEN_LABEL_LENGTH} characters).` }),
    expiresAt: t.field({ type: 'DateTime', required: false, description: 'When it stops working (in the future).' }),
    expiresInSeconds: t.int({ required: false, description: 'Seconds from now until it stops working (≥ 1).' }),
  }),
});

const CreateApiTokenPayloadRef = builder.objectRef<CreatedApiToken>('CreateApiTokenPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', {
      description: 'The whole token, to send as `Authorization: Bearer <token>`. Shown this once: only a hash of its secret is stored.',
    }),
    apiToken: t.field({ type: ApiTokenRef, resolve: (p) => p.row }),
  }),
});

const RevokeApiTokenSuccessRef = builder.objectRef<{ readonly apiToken: ApiTokenInfo }>('RevokeApiTokenSuccess').implement({
  description: 'The token is revoked (or already was): it never authenticates again.',
  fields: (t) => ({
    apiToken: t.field({ type: ApiTokenRef, resolve: (r) => r.apiToken }),
  }),
});

const RevokeApiTokenResult = builder.errorUnion('RevokeApiTokenResult', {
  description: "RevokeApiTokenSuccess, or NotFoundError for an id that is not one of the viewer's tokens.",
  types: [RevokeApiTokenSuccessRef, NotFoundError],
  resolveType: () => 'RevokeApiTokenSuccess',
});

/** Ten years: a longer expiry is "never" in all but name. */
const MAX_EXPIRES_IN_SECONDS = 10 * 366 * 24 * 3600;

function expiryOf(input: { expiresAt?: Date | null; expiresInSeconds?: number | null } | null | undefined): Date | null {
  const at = input?.expiresAt ?? null;
  const inSeconds = input?.expiresInSeconds ?? null;
  if (at !== null && inSeconds !== null) throw new InvalidArgumentError('Give expiresAt or expiresInSeconds, not both');
  if (inSeconds !== null) {
    if (inSeconds < 1 || inSeconds > MAX_EXPIRES_IN_SECONDS) throw new InvalidArgumentError(`expiresInSeconds must be between 1 and ${MAX_EXPIRES_IN_SECONDS}`);
    return new Date(Date.now() + inSeconds * 1000);
  }
  return at;
}

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    description: 'Who this request acts as.',
    resolve: (_root, _args, ctx) => {
      ctx.answerCache?.uncacheable(); // about the principal, not the user's files
      return { name: ctx.principal.userName, isAdmin: ctx.principal.isAdmin };
    },
  }),
);

builder.queryField('apiTokens', (t) =>
  t.field({
    type: [ApiTokenRef],
    description: "The viewer's API tokens (revoked and expired ones too), oldest first.",
    resolve: (_root, _args, ctx) => {
      ctx.answerCache?.uncacheable(); // tokens change (lastUsedAt, revocation) without a file write
      return ctx.apiTokens.list(ctx.principal.userId);
    },
  }),
);

builder.mutationField('createApiToken', (t) =>
  t.field({
    type: CreateApiTokenPayloadRef,
    description: 'Create an API token for the viewer. The answer holds the token: the only time it is shown.',
    args: { input: t.arg({ type: CreateApiTokenInput, required: false }) },
    resolve: async (_root, { input }, ctx) => {
      const created = ctx.apiTokens.create(ctx.principal.userId, { label: input?.label ?? null, expiresAt: expiryOf(input) });
      await ctx.apiTokens.durable(); // the token is on disk before it is shown
      return created;
    },
  }),
);

builder.mutationField('revokeApiToken', (t) =>
  t.field({
    type: RevokeApiTokenResult,
    description: 'Revoke one of the viewer\'s API tokens; requests with it answer 401 from then on (this one included, if it was its own).',
    args: { id: t.arg.id({ required: true, description: 'The token\'s public id (ApiToken.id).' }) },
    resolve: async (_root, { id }, ctx) => {
      const revoked = ctx.apiTokens.revoke(String(id), ctx.principal.userId);
      await ctx.apiTokens.durable(); // "revoked" is answered once the revocation is on disk
      return revoked ? { apiToken: revoked } : new NotFoundError(`No API token with id ${String(id)}`);
    },
  }),
);
