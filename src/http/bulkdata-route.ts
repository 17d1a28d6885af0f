/**
 * GET|HEAD /files/{id}/bulkdata/{tag}[/{item}/{tag}…]: the value bytes of one element, as
 * dicomJson's BulkDataURI names them (application/octet-stream, little endian byte order).
 *
 * - Top-level Pixel Data (7FE00010): streamed from the blob. Native: the value bytes. Encapsulated
 *   (compressed): the value as stored — Basic Offset Table item, fragment items and sequence
 *   delimiter — so that a client can split frames. A deflated file's data set is inflated first.
 * - Any other binary element (in the header, nested in sequence items or not): its bytes from the
 *   parsed header (cached); for encapsulated data below top level (an icon), the fragments joined.
 * Big endian files: OW/OF/OL/OD/OV words are swapped to little endian, as in InlineBinary.
 */
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { findByPath, littleEndianBytes, parseBulkDataPath } from '../dicom/dicom-json.js';
import { BINARY_VRS } from '../dicom/value.js';
import { datasetSource, scanDicom } from '../dicom/scan.js';
import { NotFoundError } from '../errors.js';
import { BULKDATA_PATH_PATTERN } from '../graphql/file-urls.js';
import type { RequestAudit } from '../storage/audit-log.js';
import type { OwnerFileRepository } from '../storage/dicom-files.js';
import { withFileSource } from '../storage/file-byte-source.js';
import type { HeaderCache } from '../storage/header-cache.js';
import type { LocalBlobStore } from '../storage/local-blob-store.js';
import type { FileFacts } from '../storage/file-facts-cache.js';
import { CACHE_CONTROL_DOWNLOAD, etagMatches } from './download-route.js';

export interface BulkDataRouteDeps {
  /** The caller's files (another user's id is not found). */
  readonly files: OwnerFileRepository;
  readonly blobs: LocalBlobStore;
  readonly headers: HeaderCache;
  /** This request's audit recorder: a DOWNLOAD per 200/304 answer to a GET. */
  readonly audit: RequestAudit;
}

const WORD_SIZE: Readonly<Record<string, number>> = { OW: 2, OF: 4, OL: 4, OD: 8, OV: 8 };

export function isBulkDataPath(pathname: string): boolean {
  return BULKDATA_PATH_PATTERN.test(pathname);
}

interface Body {
  readonly length: number;
  readonly stream: () => Readable;
  /** Releases what `stream` would have used when it is not called (HEAD, empty value). */
  readonly dispose?: () => Promise<void>;
}

export async function handleBulkData(req: IncomingMessage, res: ServerResponse, url: URL, deps: BulkDataRouteDeps): Promise<void> {
  const [, id, pathText] = BULKDATA_PATH_PATTERN.exec(url.pathname) as unknown as [string, string, string];
  const path = parseBulkDataPath(pathText);
  const file = deps.files.findFacts(id);
  if (!file) throw new NotFoundError(`No DICOM file with id ${id}`);
  const noData = () => new NotFoundError(`File ${id} has no bulk data at ${pathText}`);
  if (!path) throw noData();

  const etag = `"${file.sha256.slice(0, 32)}-${path.join('.')}"`;
  if (etagMatches(req.headers['if-none-match'], etag)) {
    if (req.method !== 'HEAD') deps.audit.record('DOWNLOAD', file.id);
    res.writeHead(304, { etag, 'cache-control': CACHE_CONTROL_DOWNLOAD });
    res.end();
    return;
  }
  const body = path.length === 1 && path[0] === '7FE00010' ? await pixelData(file, deps, noData) : await headerElement(file, path, deps, noData);
  if (req.method !== 'HEAD') deps.audit.record('DOWNLOAD', file.id);
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(body.length),
    etag,
    'cache-control': CACHE_CONTROL_DOWNLOAD,
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD' || body.length === 0) {
    await body.dispose?.();
    res.end();
    return;
  }
  await pipeline(body.stream(), res).catch(() => {
    // the client went away
  });
}

async function headerElement(file: FileFacts, path: readonly (string | number)[], deps: BulkDataRouteDeps, noData: () => Error): Promise<Body> {
  const header = await deps.headers.get(file);
  const element = findByPath([header.meta, header.dataset], path);
  if (!element || !BINARY_VRS.has(element.vr) || !element.bytes) throw noData();
  const bytes = littleEndianBytes(element.bytes, element.vr, header.structure.transferSyntax.littleEndian);
  return { length: bytes.length, stream: () => Readable.from([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)]) };
}

async function pixelData(file: FileFacts, deps: BulkDataRouteDeps, noData: () => Error): Promise<Body> {
  if (!file.hasPixelData) throw noData();
  const blobPath = deps.blobs.blobPath(file.sha256);
  let handle;
  try {
    handle = await open(blobPath, 'r'); // held open: a concurrent delete cannot pull the bytes away mid-answer
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw noData();
    throw err;
  }
  try {
    // Element headers only (values are skipped by offset); files were validated at upload.
    const structure = withFileSource(blobPath, (source) => scanDicom(source));
    const px = structure.pixelData;
    if (!px) throw noData();
    const length = file.pixelDataLength ?? px.length ?? 0;
    const swap = !structure.transferSyntax.littleEndian && px.length !== null ? WORD_SIZE[px.vr] : undefined;
    if (structure.transferSyntax.deflated) {
      // The value lives in the inflated data set (deflated files are small: inflating is bounded at upload).
      const bytes = withFileSource(blobPath, (source) => datasetSource(source, structure).read(px.valueOffset, length));
      const out = swap ? littleEndianBytes(bytes, px.vr, false) : bytes;
      const buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
      await handle.close();
      return { length: buf.length, stream: () => Readable.from([buf]) };
    }
    const start = structure.datasetOffset + px.valueOffset;
    const opened = handle;
    handle = undefined;
    return {
      length,
      stream: () => {
        const raw = opened.createReadStream({ start, end: start + length - 1, autoClose: true });
        if (!swap) return raw;
        const swapped = new WordSwap(swap);
        raw.on('error', (err) => swapped.destroy(err));
        return raw.pipe(swapped);
      },
      dispose: () => opened.close(),
    };
  } finally {
    await handle?.close();
  }
}

/** Reverses the bytes of every `size`-byte word (big → little endian), across chunk boundaries. */
class WordSwap extends Transform {
  private carry = Buffer.alloc(0);
  constructor(private readonly size: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const whole = data.length - (data.length % this.size);
    this.carry = Buffer.from(data.subarray(whole));
    done(null, Buffer.from(littleEndianBytes(data.subarray(0, whole), this.size === 2 ? 'OW' : this.size === 4 ? 'OL' : 'OD', false)));
  }
  override _flush(done: TransformCallback): void {
    done(null, this.carry);
  }
}
