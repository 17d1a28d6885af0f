/**
 * The embedded blob store: files under DATA_DIR/blobs/ab/cd/<sha256>. A blob is written to
 * DATA_DIR/tmp, fsynced, then renamed into place (rename is atomic on one file system), so a
 * crash leaves either no blob or a whole one, never a partial file under its final name.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, mkdirSync, unlinkSync } from 'node:fs';
import { access, link, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileTooLargeError } from '../errors.js';
import type { BlobStore, TempBlob } from './blob-store.js';
import { FileByteSource } from './file-byte-source.js';

export class LocalBlobStore implements BlobStore {
  private readonly blobDir: string;
  private readonly tmpDir: string;
  /**
   * Blobs committed by an upload whose row may not be inserted yet (commit → discard): a delete
   * must not remove them, or the upload's row would name a missing blob.
   */
  private readonly committing = new Map<string, number>();

  constructor(dataDir: string) {
    this.blobDir = join(dataDir, 'blobs');
    this.tmpDir = join(dataDir, 'tmp');
    mkdirSync(this.blobDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
  }

  /** Deletes temp files left by a crash (none can be in use before the server listens). */
  async sweepTemp(): Promise<number> {
    const names = await readdir(this.tmpDir);
    await Promise.all(names.map((n) => rm(join(this.tmpDir, n), { recursive: true, force: true })));
    return names.length;
  }

  blobPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.blobDir, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async write(input: Readable, maxBytes: number, spooledAt?: string | null): Promise<TempBlob> {
    const tempPath = join(this.tmpDir, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let byteSize = 0;
    // One write of the body: the multipart parser's spool file (same file system) becomes the temp
    // blob by a hard link made now, while the parser may still be writing to that inode; `input`
    // (its bytes, ending when the whole upload is on disk) is then only read and hashed.
    if (spooledAt && (await linkOrFalse(spooledAt, tempPath))) {
      try {
        await new Promise<void>((resolve, reject) => {
          input.on('error', reject);
          input.on('data', (chunk: Buffer) => {
            byteSize += chunk.length;
            if (byteSize > maxBytes) {
              input.destroy();
              return reject(new FileTooLargeError(maxBytes));
            }
            hash.update(chunk);
          });
          input.on('end', resolve);
        });
        // The spool file holds exactly the bytes hashed (the parser wrote nothing after them).
        await fsyncPath(tempPath, 'r+', (size) => {
          if (size !== byteSize) throw new Error(`spooled upload is ${size} bytes, its stream gave ${byteSize}`);
        });
      } catch (err) {
        await rm(tempPath, { force: true });
        throw err;
      }
      return this.tempBlob(tempPath, hash.digest('hex'), byteSize);
    }
    const out = createWriteStream(tempPath, { flags: 'wx' });
    try {
      await new Promise<void>((resolve, reject) => {
        const fail = (err: unknown) => {
          input.unpipe?.(out);
          input.resume?.();
          out.destroy();
          reject(err);
        };
        input.on('error', fail);
        out.on('error', fail);
        input.on('data', (chunk: Buffer) => {
          byteSize += chunk.length;
          if (byteSize > maxBytes) return fail(new FileTooLargeError(maxBytes));
          hash.update(chunk);
        });
        out.on('finish', resolve);
        input.pipe(out);
      });
      // Durable before anything refers to it.
      await fsyncPath(tempPath, 'r+');
    } catch (err) {
      await rm(tempPath, { force: true });
      throw err;
    }
    return this.tempBlob(tempPath, hash.digest('hex'), byteSize);
  }

  /** The temp blob at `tempPath` (written and fsynced): commit renames it into place. */
  private tempBlob(tempPath: string, sha256: string, byteSize: number): TempBlob {
    const finalPath = this.blobPath(sha256);
    let committed = false;
    /** Counted in `committing` from commit() until discard(). */
    let registered = false;
    return {
      sha256,
      byteSize,
      open: () => new FileByteSource(tempPath),
      path: tempPath,
      commit: async () => {
        if (!registered) this.committing.set(sha256, (this.committing.get(sha256) ?? 0) + 1);
        registered = true;
        const dir = join(this.blobDir, sha256.slice(0, 2), sha256.slice(2, 4));
        await mkdir(dir, { recursive: true });
        if (await this.exists(sha256)) {
          await rm(tempPath, { force: true });
        } else {
          await rename(tempPath, finalPath);
        }
        // In both cases: another user's copy of the bytes must not make this upload faster
        // (the answer, and its timing, do not tell whether anyone else stored them).
        await fsyncDir(dir);
        committed = true;
      },
      discard: async () => {
        if (registered) {
          // The caller is done with the blob (its row is inserted, or it failed): deletes may act again.
          registered = false;
          const n = (this.committing.get(sha256) ?? 1) - 1;
          if (n > 0) this.committing.set(sha256, n);
          else this.committing.delete(sha256);
        }
        if (!committed) await rm(tempPath, { force: true });
      },
    };
  }

  removeUnreferenced(sha256: string, isReferenced: () => boolean): boolean {
    // Synchronous from the check to the unlink: no upload can commit or insert in between.
    if (this.committing.has(sha256) || isReferenced()) return false;
    try {
      unlinkSync(this.blobPath(sha256));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
  }

  open(sha256: string): FileByteSource {
    return new FileByteSource(this.blobPath(sha256));
  }

  async readPrefix(sha256: string, length: number): Promise<Uint8Array> {
    const fh = await open(this.blobPath(sha256), 'r');
    try {
      const buf = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(buf, done, length - done, done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done === length ? buf : buf.subarray(0, done);
    } finally {
      await fh.close();
    }
  }

  async exists(sha256: string): Promise<boolean> {
    try {
      await access(this.blobPath(sha256));
      return true;
    } catch {
      return false;
    }
  }
}

/** Hard-links `from` as `to`; false when that is not possible (another file system, no such file, …). */
async function linkOrFalse(from: string, to: string): Promise<boolean> {
  try {
    await link(from, to);
    return true;
  } catch {
    return false;
  }
}

/** fsync a directory so that a rename inside it survives a power loss. */
function fsyncDir(dir: string): Promise<void> {
  return fsyncPath(dir, 'r');
}

/** fsync a file or folder; `check` sees its size first (and may throw to refuse it). */
async function fsyncPath(path: string, flags: 'r' | 'r+', check?: (size: number) => void): Promise<void> {
  const fh = await open(path, flags);
  try {
    if (check) check((await fh.stat()).size);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
