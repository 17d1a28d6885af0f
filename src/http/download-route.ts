/**
 * GET|HEAD /files/{id}/download: the stored bytes exactly as uploaded, streamed from the blob
 * (never held in memory). application/dicom, an attachment named after the original file name
 * (RFC 6266), strong ETag = the SHA-256, single byte ranges (RFC 9110 §14: 206, 416, If-Range).
 * `private, no-cache`: browsers keep it but ask again (a 304 while the file exists, 404 once it is
 * deleted); shared caches never keep patient data.
 */
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../errors.js';
import { DOWNLOAD_PATH_PATTERN } from '../graphql/file-urls.js';
import type { RequestAudit } from '../storage/audit-log.js';
import type { OwnerFileRepository } from '../storage/dicom-files.js';
import type { LocalBlobStore } from '../storage/local-blob-store.js';
import { contentDisposition, downloadName } from './content-disposition.js';
import { sendJsonError } from './json-response.js';

export interface DownloadRouteDeps {
  /** The caller's files (another user's id is not found). */
  readonly files: OwnerFileRepository;
  readonly blobs: LocalBlobStore;
  /** This request's audit recorder: a DOWNLOAD per 200/206/304 answer to a GET. */
  readonly audit: RequestAudit;
}

export const CACHE_CONTROL_DOWNLOAD = 'private, no-cache';

export function isDownloadPath(pathname: string): boolean {
  return DOWNLOAD_PATH_PATTERN.test(pathname);
}

/** A satisfiable single range [start, end] (inclusive), 'unsatisfiable', or null to send the whole file. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m) return null; // several ranges or another unit: ignored, the whole file is sent (RFC 9110 §14.2)
  const [, first, last] = m as unknown as [string, string, string];
  if (first === '' && last === '') return null;
  if (first === '') {
    const n = Number(last); // suffix: the last n bytes
    if (n === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return 'unsatisfiable';
  return { start, end };
}

export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

export async function handleDownload(req: IncomingMessage, res: ServerResponse, url: URL, deps: DownloadRouteDeps): Promise<void> {
  const [, id] = DOWNLOAD_PATH_PATTERN.exec(url.pathname) as unknown as [string, string];
  const file = deps.files.findFacts(id);
  if (!file) throw new NotFoundError(`No DICOM file with id ${id}`);
  let handle;
  try {
    handle = await open(deps.blobs.blobPath(file.sha256), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`No DICOM file with id ${id}`); // deleted meanwhile
    throw err;
  }
  try {
    const size = (await handle.stat()).size;
    const etag = `"${file.sha256}"`;
    const common = {
      etag,
      'cache-control': CACHE_CONTROL_DOWNLOAD,
      'accept-ranges': 'bytes',
      'x-content-type-options': 'nosniff',
    };
    if (etagMatches(req.headers['if-none-match'], etag)) {
      if (req.method !== 'HEAD') deps.audit.record('DOWNLOAD', file.id);
      res.writeHead(304, common);
      res.end();
      return;
    }
    const ifRange = req.headers['if-range'];
    const range = ifRange === undefined || String(ifRange).trim() === etag ? parseRange(req.headers.range, size) : null;
    if (range === 'unsatisfiable') {
      return sendJsonError(res, 416, 'RANGE_NOT_SATISFIABLE', `The file has ${size} bytes`, { 'content-range': `bytes */${size}`, ...common });
    }
    const start = range?.start ?? 0;
    const end = range?.end ?? size - 1;
    if (req.method !== 'HEAD') deps.audit.record('DOWNLOAD', file.id);
    res.writeHead(range ? 206 : 200, {
      ...common,
      'content-type': 'application/dicom',
      'content-length': String(Math.max(0, end - start + 1)),
      'content-disposition': contentDisposition(downloadName(file.filename, 'file.dcm')),
      ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
    });
    if (req.method === 'HEAD' || size === 0) {
      res.end();
      return;
    }
    const stream = handle.createReadStream({ start, end, autoClose: true });
    handle = undefined; // the stream closes it
    await pipeline(stream, res).catch(() => {
      // the client went away: nothing to answer
    });
  } finally {
    await handle?.close();
  }
}
