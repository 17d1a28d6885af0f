import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
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

  it('sweeps temp files left by a crash', async () => {
    new LocalBlobStore(dir);
    writeFileSync(join(dir, 'tmp', 'x.part'), 'partial');
    const store = new LocalBlobStore(dir);
    expect(await store.sweepTemp()).toBe(1);
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  describe('adopting the multipart spool file (one write of the body)', () => {
    it('hard-links the spool file: no second copy, the blob survives the spool\'s removal', async () => {
      const store = new LocalBlobStore(dir);
      const bytes = Buffer.from('spooled dicom '.repeat(50_000));
      const spool = join(dir, 'spool.tmp');
      writeFileSync(spool, bytes);
      const temp = await store.write(createReadStream(spool, { highWaterMark: 4096 }), 1e9, spool);
      expect(temp.sha256).toBe(sha(bytes));
      expect(temp.byteSize).toBe(bytes.length);
      expect(statSync(temp.path).ino).toBe(statSync(spool).ino); // the same file, not a copy
      await temp.commit();
      await temp.discard();
      unlinkSync(spool); // the multipart parser removes its spool when the request ends
      expect(readFileSync(store.blobPath(temp.sha256))).toEqual(bytes);
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    });

    it('copies as before when the spool cannot be linked', async () => {
      const store = new LocalBlobStore(dir);
      const bytes = Buffer.from('abc'.repeat(1000));
      const temp = await store.write(Readable.from([bytes]), 1e9, join(dir, 'no-such-spool'));
      expect(temp.sha256).toBe(sha(bytes));
      await temp.commit();
      expect(readFileSync(store.blobPath(temp.sha256))).toEqual(bytes);
    });

    it('rejects past the limit, or when the spool does not hold exactly the streamed bytes, and leaves no temp file', async () => {
      const store = new LocalBlobStore(dir);
      const spool = join(dir, 'spool.tmp');
      writeFileSync(spool, Buffer.alloc(3000));
      await expect(store.write(createReadStream(spool, { highWaterMark: 1000 }), 2000, spool)).rejects.toBeInstanceOf(FileTooLargeError);
      await expect(store.write(Readable.from([Buffer.alloc(10)]), 1e9, spool)).rejects.toThrow(/spooled upload is 3000 bytes/);
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
      expect(existsSync(spool)).toBe(true); // the spool is the parser's: never removed by the store
    });
  });
});
