/** dicomFileAdded / dicomFileDeleted reach only subscribers acting as the file's owner (ctx.principal). */
import { parse, subscribe } from 'graphql';
import { describe, expect, it } from 'vitest';
import type { Principal } from '../../src/auth/principal.js';
import type { Context } from '../../src/graphql/context.js';
import { schema } from '../../src/graphql/schema.js';
import { createDicomEvents, deletedFile } from '../../src/graphql/subscriptions.js';
import type { DicomFileRow } from '../../src/storage/schema.js';

const principal = (userId: number): Principal => ({ userId, userName: `u${userId}`, isAdmin: false, tokenId: null });
const row = (id: string, ownerRef: number) => ({ id, ownerRef, sha256: 'a'.repeat(64), filename: `${id}.dcm`, studyInstanceUid: '1.2', sopInstanceUid: null, seriesInstanceUid: null }) as unknown as DicomFileRow;

async function stream(events: ReturnType<typeof createDicomEvents>, userId: number, field: 'dicomFileAdded' | 'dicomFileDeleted') {
  const contextValue = { events, principal: principal(userId), baseUrl: 'http://x.invalid' } as unknown as Context;
  const result = await subscribe({ schema, document: parse(`subscription { ${field} { id filename } }`), contextValue });
  if (!(Symbol.asyncIterator in result)) throw new Error(JSON.stringify(result));
  return result;
}

describe('subscriptions per owner', () => {
  for (const [field, topic, payload] of [
    ['dicomFileAdded', 'dicomFile:added', (r: DicomFileRow) => r],
    ['dicomFileDeleted', 'dicomFile:deleted', (r: DicomFileRow) => deletedFile(r)],
  ] as const) {
    it(`${field}: each subscriber gets its own files' events only`, async () => {
      const events = createDicomEvents();
      const alice = await stream(events, 2, field);
      const bob = await stream(events, 3, field);
      const nextAlice = alice.next();
      const nextBob = bob.next();
      await new Promise((r) => setImmediate(r));
      const publish = events.publish.bind(events) as (topic: string, payload: unknown) => void;
      publish(topic, payload(row('of-alice', 2)));
      publish(topic, payload(row('of-bob', 3)));
      const a = await nextAlice;
      const b = await nextBob;
      expect((a.value as { data: Record<string, { filename: string }> }).data[field]!.filename).toBe('of-alice.dcm');
      expect((b.value as { data: Record<string, { filename: string }> }).data[field]!.filename).toBe('of-bob.dcm');
      await alice.return?.();
      await bob.return?.();
    });
  }
});
