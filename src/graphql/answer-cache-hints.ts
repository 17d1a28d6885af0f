/**
 * What one GraphQL execution tells the answer cache in front of yoga
 * (src/http/graphql-answer-cache.ts) about its answer, collected through the context
 * (`ctx.answerCache`) while the resolvers run:
 *
 * - whether the answer may be reused at all: fields whose value can change without a write of
 *   the user's files (the viewer, API tokens, the audit trail, anything time-dependent) call
 *   `uncacheable()`; everything else is a function of the user's files, which are
 *   content-addressed and change only through uploads and deletes (they bump the owner's data
 *   version, src/storage/data-versions.ts);
 * - the instants at which a fresh execution would give the same bytes: signed URLs carry a
 *   bucketed expiry (src/auth/url-signer.ts), so an answer holding one is valid only while the
 *   bucket lasts (`limitValidity`);
 * - the audit events the execution recorded (READ of each header it read), recorded again for
 *   every request the stored answer serves: the audit trail is the same with and without cache.
 */
import type { AuditAction, RequestAudit } from '../storage/audit-log.js';

export class AnswerCacheHints {
  private reusable = true;
  /** The answer is valid at instants t (unix ms) with validAfter < t ≤ validUntil. */
  validAfter = -Infinity;
  validUntil = Infinity;
  /** Each (action, file id) the execution recorded, once, in order. */
  readonly audited: { readonly action: AuditAction; readonly fileId: string }[] = [];
  /** Set by the execution plugin: the executed operation's type and name. */
  operationType: string | undefined;
  operationName: string | undefined;

  /** The answer depends on something besides the user's files (or the clock): never reuse it. */
  uncacheable(): void {
    this.reusable = false;
  }

  get cacheable(): boolean {
    return this.reusable && this.validAfter < this.validUntil;
  }

  /** The answer is the same as a fresh execution's only at instants in (after, until]. */
  limitValidity(after: number, until: number): void {
    this.validAfter = Math.max(this.validAfter, after);
    this.validUntil = Math.min(this.validUntil, until);
  }

  /** `audit`, also remembering what it was asked to record. */
  recording(audit: RequestAudit): RequestAudit {
    const seen = new Set<string>();
    return {
      record: (action, fileId) => {
        audit.record(action, fileId);
        const key = `${action}\u0000${fileId}`;
        if (seen.has(key)) return;
        seen.add(key);
        this.audited.push({ action, fileId });
      },
    };
  }
}
