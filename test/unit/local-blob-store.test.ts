import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileTooLargeError } from '../../src/errors.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'blobs-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('LocalBlobStore', () => {
  it('hashes while writing and commits under the content address', async () => {
    const store = new LocalBlobStore(dir);
    const bytes = Buffer.from('hello dicom '.repeat(10_000));
    const temp = await store.write(Readable.from([bytes.subarray(0, 5000), bytes.subarray(5000)]), 1e9);
    expect(temp.sha256).toBe(sha(bytes));
    expect(temp.byteSize).toBe(bytes.length);
    expect(existsSync(store.blobPath(temp.sha256))).toBe(false); // not visible before commit
    await temp.commit();
    expect(readFileSync(store.blobPath(temp.sha256))).toEqual(bytes);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    expect(Buffer.from(await store.readPrefix(temp.sha256, 5))).toEqual(Buffer.from('hello'));
  });

  it('rejects past the limit and leaves no temp file', async () => {
    const store = new LocalBlobStore(dir);
    const input = Readable.from([Buffer.alloc(600), Buffer.alloc(600)]);
    await expect(store.write(input, 1000)).rejects.toBeInstanceOf(FileTooLargeError);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('discard removes an uncommitted temp file; committing the same bytes twice keeps one blob', async () => {
    const store = new LocalBlobStore(dir);
    const a = await store.write(Readable.from([Buffer.from('abc')]), 100);
    await a.discard();
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    const b = await store.write(Readable.from([Buffer.from('abc')]), 100);
    const c = await store.write(Readable.from([Buffer.from('abc')]), 100);
    await b.commit();
    await c.commit();
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    expect(await store.exists(b.sha256)).toBe(true);
  });

  it('sweeps temp files and upload spools left by a crash; the spool folder stays, owner only', async () => {
    const first = new LocalBlobStore(dir);
    expect(first.uploadSpoolDir).toBe(join(dir, 'spool'));
    writeFileSync(join(dir, 'tmp', 'x.part'), 'partial');
    writeFileSync(join(first.uploadSpoolDir, 'capacitor-0123.tmp'), 'partial upload');
    writeFileSync(join(first.uploadSpoolDir, 'capacitor-4567.tmp'), 'another');
    const store = new LocalBlobStore(dir);
    expect(await store.sweepTemp()).toBe(3);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    expect(readdirSync(store.uploadSpoolDir)).toEqual([]);
    expect(statSync(store.uploadSpoolDir).mode & 0o777).toBe(0o700);
  });

  describe('adopting the multipart spool file (one write of the body)', () => {
    it('hard-links the spool file under its address: no second copy, the blob survives the spool\'s removal', async () => {
      const store = new LocalBlobStore(dir);
      const bytes = Buffer.from('spooled dicom '.repeat(50_000));
      const spool = join(dir, 'spool.tmp');
      writeFileSync(spool, bytes);
      const temp = store.adopt(spool, sha(bytes), bytes.length);
      expect(existsSync(store.blobPath(sha(bytes)))).toBe(false); // nothing visible before commit
      await temp.commit();
      expect(statSync(store.blobPath(sha(bytes))).ino).toBe(statSync(spool).ino); // the same file, not a copy
      await temp.discard();
      expect(existsSync(spool)).toBe(true); // the spool is the parser's: never removed by the store
      unlinkSync(spool); // the multipart parser removes its spool when the request ends
      expect(readFileSync(store.blobPath(sha(bytes)))).toEqual(bytes);
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    });

    it('keeps the blob already stored under the address (same bytes), and commits again without error', async () => {
      const store = new LocalBlobStore(dir);
      const bytes = Buffer.from('same bytes'.repeat(100));
      const first = await store.write(Readable.from([bytes]), 1e9);
      await first.commit();
      await first.discard();
      const before = statSync(store.blobPath(sha(bytes))).ino;
      const spool = join(dir, 'spool.tmp');
      writeFileSync(spool, bytes);
      const temp = store.adopt(spool, sha(bytes), bytes.length);
      await temp.commit();
      await temp.discard();
      expect(statSync(store.blobPath(sha(bytes))).ino).toBe(before);
      expect(readFileSync(store.blobPath(sha(bytes)))).toEqual(bytes);
    });

    it('protects the blob from deletes between commit and discard', async () => {
      const store = new LocalBlobStore(dir);
      const bytes = Buffer.from('in flight'.repeat(100));
      const spool = join(dir, 'spool.tmp');
      writeFileSync(spool, bytes);
      const temp = store.adopt(spool, sha(bytes), bytes.length);
      await temp.commit();
      expect(store.removeUnreferenced(sha(bytes), () => false)).toBe(false);
      await temp.discard();
      expect(store.removeUnreferenced(sha(bytes), () => false)).toBe(true);
      expect(existsSync(store.blobPath(sha(bytes)))).toBe(false);
    });

    it('recreates a blob folder that went away after it was first used', async () => {
      const store = new LocalBlobStore(dir);
      const a = Buffer.from('first');
      const spool = join(dir, 'spool.tmp');
      writeFileSync(spool, a);
      const temp = store.adopt(spool, sha(a), a.length);
      await temp.commit();
      await temp.discard();
      rmSync(join(dir, 'blobs'), { recursive: true });
      const again = store.adopt(spool, sha(a), a.length);
      await again.commit();
      await again.discard();
      expect(readFileSync(store.blobPath(sha(a)))).toEqual(a);
    });

    it.skipIf(!existsSync('/dev/shm'))('copies once when the spool is on another file system (no hard link possible)', async () => {
      const store = new LocalBlobStore(dir);
      const bytes = Buffer.from('other file system '.repeat(1000));
      const spool = join('/dev/shm', `dicomql-spool-${process.pid}-${Date.now()}`);
      writeFileSync(spool, bytes);
      try {
        const temp = store.adopt(spool, sha(bytes), bytes.length);
        await temp.commit();
        await temp.discard();
        expect(statSync(store.blobPath(sha(bytes))).ino).not.toBe(statSync(spool).ino);
        expect(readFileSync(store.blobPath(sha(bytes)))).toEqual(bytes);
        expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
        expect(existsSync(spool)).toBe(true);
      } finally {
        rmSync(spool, { force: true });
      }
    });
  });
});
