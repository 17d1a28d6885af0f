/**
 * The spool file of graphql-upload-ts (fs-capacitor) that a worker digests and the blob store
 * adopts by hard link (src/graphql/upload-spool.ts): `spoolPathOf` reads a private field of the
 * pinned version, so a dependency update that renames it fails here rather than silently falling
 * back to reading the upload as a stream; `spooledFile` waits for the whole upload.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type FileUpload, WriteStream } from 'graphql-upload-ts';
import { describe, expect, it } from 'vitest';
import { spooledFile, spoolPathOf } from '../../src/graphql/upload-spool.js';

/** A FileUpload over a capacitor, as graphql-upload-ts builds it (createReadStream throws the upload's error). */
function uploadOf(capacitor: WriteStream, error?: () => unknown): FileUpload {
  return {
    capacitor,
    createReadStream: (options?: object) => {
      const e = error?.();
      if (e) throw e;
      return capacitor.createReadStream(options);
    },
  } as unknown as FileUpload;
}

describe('spoolPathOf', () => {
  it('finds graphql-upload-ts\'s spool file (a private field of the pinned version)', async () => {
    const capacitor = new WriteStream();
    await new Promise((resolve) => capacitor.once('ready', resolve));
    capacitor.write(Buffer.from('x'));
    const path = spoolPathOf({ capacitor } as unknown as FileUpload);
    expect(typeof path).toBe('string');
    expect(existsSync(path!)).toBe(true);
    capacitor.release();
    expect(spoolPathOf({} as FileUpload)).toBeNull();
  });
});

describe('spooledFile', () => {
  it('resolves once every byte is in the spool file, not before', async () => {
    const capacitor = new WriteStream();
    let done = false;
    const spooled = spooledFile(uploadOf(capacitor)).then((path) => {
      done = true;
      return path;
    });
    capacitor.write(Buffer.alloc(100_000, 1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(done).toBe(false);
    capacitor.end(Buffer.alloc(50_000, 2));
    const path = await spooled;
    expect(readFileSync(path!).length).toBe(150_000);
    expect(await spooledFile(uploadOf(capacitor))).toBe(path); // already finished
    capacitor.release();
  });

  it('rejects with the upload\'s own error when the spool is destroyed first (size limit, disconnect)', async () => {
    const capacitor = new WriteStream();
    const tooLarge = Object.assign(new Error('File truncated as it exceeds the 10 byte size limit.'), { status: 413 });
    capacitor.on('error', () => {}); // graphql-upload-ts listens too
    const upload = uploadOf(capacitor, () => (capacitor.destroyed ? tooLarge : undefined));
    const spooled = spooledFile(upload);
    capacitor.write(Buffer.alloc(20));
    capacitor.destroy(tooLarge);
    await expect(spooled).rejects.toBe(tooLarge);
    await expect(spooledFile(upload)).rejects.toBe(tooLarge);
  });
});
