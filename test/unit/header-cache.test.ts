import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HeaderCache } from '../../src/storage/header-cache.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { syntheticImage } from '../helpers/fixtures.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'header-cache-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A store that counts prefix reads, i.e. header parses. */
async function storeWith(files: Buffer[]) {
  const store = new LocalBlobStore(dir);
  let reads = 0;
  const counting = Object.assign(Object.create(store) as LocalBlobStore, {
    readPrefix: (sha: string, n: number) => {
      reads++;
      return store.readPrefix(sha, n);
    },
  });
  const stored = [];
  for (const bytes of files) {
    const temp = await store.write(Readable.from([bytes]), 1e9);
    await temp.commit();
    stored.push({ sha256: temp.sha256, headerEnd: bytes.length });
  }
  return { store: counting, stored, reads: () => reads };
}

describe('HeaderCache', () => {
  it('parses a header once, shares a parse in flight, and serves later requests from memory', async () => {
    const { store, stored, reads } = await storeWith([syntheticImage({ patientName: 'Once^Only' })]);
    const cache = new HeaderCache(store, { maxEntries: 10, maxBytes: 1e6 });
    const [a, b] = await Promise.all([cache.get(stored[0]!), cache.get(stored[0]!)]);
    expect(a).toBe(b);
    expect(a.dataset.get('00100010')?.values).toEqual([{ Alphabetic: 'Once^Only' }]);
    await cache.get(stored[0]!);
    expect(reads()).toBe(1);
  });

  it('evicts by header bytes and keeps nothing larger than the budget', async () => {
    const files = [syntheticImage({ sopInstanceUid: '1.1' }), syntheticImage({ sopInstanceUid: '1.2' })];
    const { store, stored, reads } = await storeWith(files);
    const cache = new HeaderCache(store, { maxEntries: 10, maxBytes: files[0]!.length + 10 });
    await cache.get(stored[0]!);
    await cache.get(stored[1]!); // evicts the first: both do not fit
    await cache.get(stored[1]!);
    expect(reads()).toBe(2);
    await cache.get(stored[0]!);
    expect(reads()).toBe(3);

    const tiny = new HeaderCache(store, { maxEntries: 10, maxBytes: 10 });
    await tiny.get(stored[0]!);
    await tiny.get(stored[0]!);
    expect(reads()).toBe(5);
  });

  it('does not keep a failed parse', async () => {
    const { store, stored, reads } = await storeWith([syntheticImage()]);
    const cache = new HeaderCache(store, { maxEntries: 10, maxBytes: 1e6 });
    await expect(cache.get({ sha256: 'f'.repeat(64), headerEnd: 10 })).rejects.toThrow();
    await expect(cache.get({ sha256: 'f'.repeat(64), headerEnd: 10 })).rejects.toThrow();
    expect(reads()).toBe(2);
    expect(stored).toHaveLength(1);
  });
});
