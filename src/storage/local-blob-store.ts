/**
 * The embedded blob store: files under DATA_DIR/blobs/ab/cd/<sha256>. A streamed blob is written
 * to DATA_DIR/tmp, fsynced, then renamed into place (rename is atomic on one file system). An
 * upload the multipart parser spooled whole is adopted instead: hard-linked under its address,
 * then its bytes and its folder flushed at once. Either way the row naming a blob is committed
 * only after the blob and its folder are durable; a crash before that leaves at most an orphan
 * blob (no row names it; an adopted one may be torn), which the startup repair removes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { close as fsClose, constants as fsConstants, createWriteStream, existsSync, fdatasync, fsync as fsFsync, mkdirSync, open as fsOpen, unlinkSync } from 'node:fs';
import { access, copyFile, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { FileTooLargeError } from '../errors.js';
import type { BlobStore, TempBlob } from './blob-store.js';
import { FileByteSource } from './file-byte-source.js';

export class LocalBlobStore implements BlobStore {
  private readonly blobDir: string;
  private readonly tmpDir: string;
  /**
   * Where the multipart parser spools uploads (main.ts points graphql-upload-ts's os.tmpdir() here):
   * on the blobs' file system, so an upload is always adopted by a hard link, never copied; owner
   * only (uploads are patient data); emptied at startup like tmp/ (a crash leaves its spools).
   */
  readonly uploadSpoolDir: string;
  /**
   * Blobs committed by an upload whose row may not be inserted yet (commit → discard): a delete
   * must not remove them, or the upload's row would name a missing blob.
   */
  private readonly committing = new Map<string, number>();
  /** Blob folders known to exist (created here or seen): no mkdir per upload. */
  private readonly knownDirs = new Set<string>();

  constructor(dataDir: string) {
    this.blobDir = join(dataDir, 'blobs');
    this.tmpDir = join(dataDir, 'tmp');
    mkdirSync(this.blobDir, { recursive: true });
    mkdirSync(this.tmpDir, { recursive: true });
    this.uploadSpoolDir = join(dataDir, 'spool');
    mkdirSync(this.uploadSpoolDir, { recursive: true, mode: 0o700 });
  }

  /** Deletes temp files and upload spools left by a crash (none can be in use before the server listens). */
  async sweepTemp(): Promise<number> {
    let removed = 0;
    for (const dir of [this.tmpDir, this.uploadSpoolDir]) {
      const names = await readdir(dir);
      await Promise.all(names.map((n) => rm(join(dir, n), { recursive: true, force: true })));
      removed += names.length;
    }
    return removed;
  }

  blobPath(sha256: string): string {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.blobDir, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async write(input: Readable, maxBytes: number): Promise<TempBlob> {
    const tempPath = join(this.tmpDir, `${randomUUID()}.part`);
    const hash = createHash('sha256');
    let byteSize = 0;
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

  adopt(path: string, sha256: string, byteSize: number): TempBlob {
    const finalPath = this.blobPath(sha256);
    const dir = dirname(finalPath);
    let registered = false;
    /** The copy in DATA_DIR/tmp when `path` cannot be linked (another file system). */
    let copyPath: string | undefined;
    return {
      sha256,
      byteSize,
      path,
      commit: async () => {
        if (!registered) this.committing.set(sha256, (this.committing.get(sha256) ?? 0) + 1);
        registered = true;
        await this.ensureDir(dir);
        // The name, then the bytes under it and the folder flushed together (then, the caller: the
        // row). Whoever made the name (this upload, or another one with the same bytes a moment
        // ago), its bytes are flushed here before this upload's row exists. A crash before both
        // flushes are done can leave a torn blob under its address, but no row names it: the
        // startup check removes it as an orphan.
        const linked = await linkUnlessExists(path, finalPath, () => this.ensureDir(dir, true));
        if (linked === 'cross-device') {
          copyPath = join(this.tmpDir, `${randomUUID()}.part`);
          await copyFile(path, copyPath, fsConstants.COPYFILE_EXCL);
          if ((await stat(copyPath)).size !== byteSize) throw new Error(`upload copy is not ${byteSize} bytes`);
          await fsyncPath(copyPath, 'r+');
          await rename(copyPath, finalPath);
          copyPath = undefined;
        }
        // Both flushes, whether this upload made the name or another had: another user's copy of
        // the bytes does not make this upload faster (the answer and its timing do not tell what
        // others stored).
        await Promise.all([fsyncPath(finalPath, 'r+'), fsyncPath(dir, 'r')]);
      },
      discard: async () => {
        if (registered) {
          registered = false;
          this.uncommitting(sha256);
        }
        if (copyPath !== undefined) await rm(copyPath, { force: true });
        copyPath = undefined;
      },
    };
  }

  /** Creates a blob folder once (they are never removed); `again`: it vanished, create it anew. */
  private async ensureDir(dir: string, again = false): Promise<void> {
    if (!again && this.knownDirs.has(dir)) return;
    await mkdir(dir, { recursive: true });
    this.knownDirs.add(dir);
  }

  /** An upload between commit() and discard() no longer protects its blob from deletes. */
  private uncommitting(sha256: string): void {
    const n = (this.committing.get(sha256) ?? 1) - 1;
    if (n > 0) this.committing.set(sha256, n);
    else this.committing.delete(sha256);
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
      path: tempPath,
      commit: async () => {
        if (!registered) this.committing.set(sha256, (this.committing.get(sha256) ?? 0) + 1);
        registered = true;
        const dir = dirname(finalPath);
        await this.ensureDir(dir);
        if (await this.exists(sha256)) {
          await rm(tempPath, { force: true });
        } else {
          await rename(tempPath, finalPath).catch(async (err: NodeJS.ErrnoException) => {
            if (err.code !== 'ENOENT') throw err;
            await this.ensureDir(dir, true); // the folder went away
            await rename(tempPath, finalPath);
          });
        }
        // In both cases: another user's copy of the bytes must not make this upload faster
        // (the answer, and its timing, do not tell whether anyone else stored them).
        await fsyncPath(dir, 'r');
        committed = true;
      },
      discard: async () => {
        if (registered) {
          // The caller is done with the blob (its row is inserted, or it failed): deletes may act again.
          registered = false;
          this.uncommitting(sha256);
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

/**
 * Hard-links `from` as `to`: 'linked', or 'exists' when `to` is already there (a content address:
 * the same bytes), or 'cross-device' when a link is not possible (another file system, or one
 * without hard links). `recreateDir` runs once when the target folder has vanished.
 */
async function linkUnlessExists(from: string, to: string, recreateDir: () => Promise<void>): Promise<'linked' | 'exists' | 'cross-device'> {
  for (let attempt = 0; ; attempt++) {
    try {
      await link(from, to);
      return 'linked';
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return 'exists';
      if (code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EMLINK' || code === 'EOPNOTSUPP') return 'cross-device';
      // ENOENT: the folder went away (or the spool file did: then the retry fails the same way).
      if (code === 'ENOENT' && attempt === 0 && existsSync(from)) {
        await recreateDir();
        continue;
      }
      throw err;
    }
  }
}

/**
 * fsync a file (its data: fdatasync) or a folder (so that a new name in it survives a power loss).
 * libuv's callbacks rather than FileHandle: three requests and no handle object per call.
 */
function fsyncPath(path: string, flags: 'r' | 'r+'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    fsOpen(path, flags, (openErr, fd) => {
      if (openErr) return reject(openErr);
      const done = (syncErr: NodeJS.ErrnoException | null) =>
        fsClose(fd, (closeErr) => {
          if (syncErr ?? closeErr) reject(syncErr ?? closeErr);
          else resolve();
        });
      if (flags === 'r') fsFsync(fd, done);
      else fdatasync(fd, done);
    });
  });
}
