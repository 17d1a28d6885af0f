/**
 * The key that signs companion URLs: URL_SIGNING_SECRET when configured (several instances behind
 * one address must share it), else DATA_DIR/url-signing.key — 32 random bytes created on first
 * start and kept, so that URLs stay valid across restarts. Deleting the file invalidates every
 * URL handed out so far (a new key is created on the next start).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { MIN_SECRET_BYTES } from './url-signer.js';

export const URL_SIGNING_KEY_FILE = 'url-signing.key';

export async function loadUrlSigningKey(options: { readonly secret: string | undefined; readonly dataDir: string }): Promise<Buffer> {
  if (options.secret !== undefined) return Buffer.from(options.secret, 'utf8'); // length checked by loadConfig
  return loadOrCreateKeyFile(options.dataDir);
}

/**
 * Reads DATA_DIR/url-signing.key, creating it first when missing. The key is written and synced
 * under a temporary name and then hard-linked to its final name, which fails when the name exists:
 * the file is never seen half-written, and of two processes starting at once the second reads the
 * first one's key.
 */
export async function loadOrCreateKeyFile(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, URL_SIGNING_KEY_FILE);
  const existing = await readKey(path);
  if (existing) return existing;
  await mkdir(dataDir, { recursive: true });
  const temp = join(dataDir, `.${URL_SIGNING_KEY_FILE}.${randomUUID()}.tmp`);
  const key = randomBytes(MIN_SECRET_BYTES);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(key);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const winner = await readKey(path);
    if (!winner) throw new Error(`${path} vanished while it was being created`);
    return winner;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

async function readKey(path: string): Promise<Buffer | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new Error(`${path} holds ${bytes.length} bytes, not a URL signing key of ${MIN_SECRET_BYTES}: delete it to create a new one (every signed URL handed out so far stops working)`);
  }
  return bytes;
}
