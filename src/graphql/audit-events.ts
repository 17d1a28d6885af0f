/**
 * The audit trail for admins: `auditEvents(first, after, last, before, filter)`, newest first,
 * a Relay connection over AuditLog.list (keyset pages, like the catalog listings). Who records
 * what is described in audit-log.ts and the README ("Audit trail").
 */
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import type { Principal } from '../auth/principal.js';
import { ForbiddenError, InvalidArgumentError } from '../errors.js';
import { AUDIT_ACTIONS, type AuditAction, type AuditFilter } from '../storage/audit-log.js';
import type { AuditEventRow } from '../storage/schema.js';
import { builder } from './builder.js';
import { type CatalogConnection, toConnection } from './catalog-refs.js';

const ACTION_DESCRIPTIONS: Record<AuditAction, string> = {
  UPLOAD: 'The file was stored by an upload (also when identical bytes were already stored).',
  READ: "The file's header was read for the caller: attribute, attributes or dicomJson (indexed fields and listings are not).",
  RENDER: 'The image route served a rendering of the file (200 or 304 to a GET).',
  DOWNLOAD: 'The file\'s bytes were served: /download, a series/study ZIP (one event per file), or bulk data (200/206/304 to a GET).',
  DELETE: 'The file was removed by a delete mutation (recorded after the commit).',
};

export const AuditActionEnum = builder.enumType('AuditAction', {
  description: 'What was done to a file.',
  values: Object.fromEntries(AUDIT_ACTIONS.map((a) => [a, { description: ACTION_DESCRIPTIONS[a] }])) as Record<AuditAction, { description: string }>,
});

export const AuditEventRef = builder.objectRef<AuditEventRow>('AuditEvent').implement({
  description: 'One recorded action on one file (at most one per request, action and file).',
  fields: (t) => ({
    at: t.field({ type: 'DateTime', description: 'When the server recorded it.', resolve: (e) => e.at }),
    userName: t.exposeString('userName', { description: 'The user who acted, by the name they had then.' }),
    action: t.field({ type: AuditActionEnum, resolve: (e) => e.action as AuditAction }),
    fileId: t.id({
      description: 'Global id of the DicomFile (as DicomFile.id); it stays here after the file is deleted.',
      resolve: (e) => encodeGlobalID('DicomFile', e.fileId),
    }),
    requestId: t.exposeString('requestId', { nullable: true, description: 'The request id (x-request-id) of the request that did it: ties the event to its log line.' }),
    tokenId: t.exposeString('tokenId', { nullable: true, description: 'Public id of the API token used; null in local mode.' }),
  }),
});

const AuditEventFilterInput = builder.inputType('AuditEventFilter', {
  description: 'Every given condition must hold.',
  fields: (t) => ({
    userName: t.string({ required: false, description: 'Exact user name (as recorded).' }),
    fileId: t.id({ required: false, description: 'Global id of a DicomFile (deleted files too).' }),
    action: t.field({ type: AuditActionEnum, required: false }),
    since: t.field({ type: 'DateTime', required: false, description: 'Events at or after this instant.' }),
    until: t.field({ type: 'DateTime', required: false, description: 'Events before this instant.' }),
  }),
});

const AuditEventConnection = builder.connectionObject({
  type: AuditEventRef,
  name: 'AuditEventConnection',
  description: 'A page of audit events, newest first (Relay cursor connection; keyset pagination: any page costs the same).',
  fields: (t) => ({
    totalCount: t.int({
      description: 'How many events match, over all pages.',
      resolve: (parent) => (parent as unknown as CatalogConnection<AuditEventRow>).totalCount(),
    }),
  }),
});

/** Only admins read the audit trail (FORBIDDEN otherwise). */
export function requireAdmin(principal: Principal): void {
  if (!principal.isAdmin) throw new ForbiddenError('Only an admin may read the audit trail');
}

interface AuditEventFilterArgs {
  userName?: string | null;
  fileId?: string | number | null;
  action?: AuditAction | null;
  since?: Date | null;
  until?: Date | null;
}

function auditFilter(input: AuditEventFilterArgs | null | undefined): AuditFilter {
  if (!input) return {};
  let fileId: string | undefined;
  if (input.fileId != null) {
    let decoded: { typename: string; id: string } | undefined;
    try {
      decoded = decodeGlobalID(String(input.fileId));
    } catch {
      decoded = undefined;
    }
    if (decoded?.typename !== 'DicomFile' || decoded.id === '') throw new InvalidArgumentError(`filter.fileId ${JSON.stringify(String(input.fileId))} is not a DicomFile id`);
    fileId = decoded.id;
  }
  return { userName: input.userName, fileId, action: input.action, since: input.since, until: input.until };
}

builder.queryField('auditEvents', (t) =>
  t.connection(
    {
      type: AuditEventRef,
      description: 'The audit trail, newest first: who uploaded, read the header of, rendered, downloaded or deleted which file, when. Admins only (FORBIDDEN otherwise).',
      args: { filter: t.arg({ type: AuditEventFilterInput, required: false }) },
      resolve: (_root, args, ctx) => {
        ctx.answerCache?.uncacheable(); // every request adds events
        requireAdmin(ctx.principal);
        return toConnection(ctx.auditLog.list(auditFilter(args.filter), args));
      },
    },
    AuditEventConnection,
  ),
);
