/** Removing blobs after a delete: never one that a row, or an upload between commit and insert, still needs. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';

const dir = mkdtempSync(join(tmpdir(), 'dicomql-blobrm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LocalBlobStore.removeUnreferenced', () => {
  it('removes an unreferenced blob, keeps a referenced one', async () => {
    const store = new LocalBlobStore(dir);
    const temp = await store.write(Readable.from([Buffer.from('bytes one')]), 100);
    await temp.commit();
    await temp.discard();
    expect(store.removeUnreferenced(temp.sha256, () => true)).toBe(false);
    expect(existsSync(store.blobPath(temp.sha256))).toBe(true);
    expect(store.removeUnreferenced(temp.sha256, () => false)).toBe(true);
    expect(existsSync(store.blobPath(temp.sha256))).toBe(false);
    expect(store.removeUnreferenced(temp.sha256, () => false)).toBe(false); // already gone
  });

  it('keeps a blob an upload has committed but not yet inserted a row for', async () => {
    const store = new LocalBlobStore(dir);
    const first = await store.write(Readable.from([Buffer.from('shared bytes')]), 100);
    await first.commit();
    await first.discard();
    // a second upload of the same bytes commits; its row is not inserted yet when a delete runs
    const second = await store.write(Readable.from([Buffer.from('shared bytes')]), 100);
    await second.commit();
    expect(store.removeUnreferenced(first.sha256, () => false)).toBe(false);
    expect(existsSync(store.blobPath(first.sha256))).toBe(true);
    await second.discard(); // its row is in (or it failed): deletes may act again
    expect(store.removeUnreferenced(first.sha256, () => true)).toBe(false);
    expect(store.removeUnreferenced(first.sha256, () => false)).toBe(true);
  });
});
