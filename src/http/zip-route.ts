/**
 * GET|HEAD /series/{id}.zip and /studies/{id}.zip: the current version of every instance of a
 * series or study, as one streamed ZIP (src/storage/zip-writer.ts), never assembled in memory.
 * Entries: "<SeriesNumber>_<SeriesDescription>/<InstanceNumber>_<SOPInstanceUID>.dcm", sanitized
 * (safeSegment) and made unique; instance numbers are zero-padded to 4 digits so that entries
 * sort. `private, no-store`: the content changes with uploads and deletes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../errors.js';
import { ZIP_PATH_PATTERN } from '../graphql/file-urls.js';
import type { RequestAudit } from '../storage/audit-log.js';
import type { OwnerFileRepository } from '../storage/dicom-files.js';
import type { LocalBlobStore } from '../storage/local-blob-store.js';
import type { DicomFileRow, SeriesRow } from '../storage/schema.js';
import { safeSegment, UniqueNames, type ZipSource, zipStream } from '../storage/zip-writer.js';
import { contentDisposition } from './content-disposition.js';

export interface ZipRouteDeps {
  /** The caller's files (another user's id is not found). */
  readonly files: OwnerFileRepository;
  readonly blobs: LocalBlobStore;
  /** This request's audit recorder: a DOWNLOAD per file of the archive, for a GET. */
  readonly audit: RequestAudit;
}

export function isZipPath(pathname: string): boolean {
  return ZIP_PATH_PATTERN.test(pathname);
}

/** "<SeriesNumber>_<SeriesDescription>", either part alone when the other is missing. */
export function seriesFolder(s: Pick<SeriesRow, 'id' | 'seriesNumber' | 'seriesDescription'> | undefined): string {
  const parts = [s?.seriesNumber ?? null, s?.seriesDescription?.trim() || null].filter((p) => p !== null);
  return safeSegment(parts.join('_'), `series_${s?.id ?? 'unknown'}`);
}

/** "<InstanceNumber>_<SOPInstanceUID>.dcm" (number zero-padded to 4 digits; either part alone when the other is missing). */
export function instanceName(f: Pick<DicomFileRow, 'id' | 'instanceNumber' | 'sopInstanceUid'>): string {
  const n = f.instanceNumber;
  const number = n === null || n === undefined ? null : n < 0 ? `-${String(-n).padStart(4, '0')}` : String(n).padStart(4, '0');
  const uid = f.sopInstanceUid?.trim() || null;
  return `${safeSegment([number, uid ?? (number === null ? f.id : null)].filter((p) => p !== null).join('_'), f.id, 128)}.dcm`;
}

export async function handleZip(req: IncomingMessage, res: ServerResponse, url: URL, deps: ZipRouteDeps): Promise<void> {
  const [, kind, idText] = ZIP_PATH_PATTERN.exec(url.pathname) as unknown as [string, 'series' | 'studies', string];
  const id = Number(idText);
  const catalog = deps.files.catalog;
  let rows: DicomFileRow[];
  let archiveName: string;
  if (kind === 'series') {
    const s = catalog.series(id);
    if (!s) throw new NotFoundError(`No series with id ${id}`);
    rows = catalog.currentFilesOfSeries(id);
    archiveName = seriesFolder(s);
  } else {
    const study = catalog.study(id);
    if (!study) throw new NotFoundError(`No study with id ${id}`);
    rows = catalog.currentFilesOfStudy(id);
    archiveName = safeSegment([study.studyDate || null, study.studyDescription?.trim() || null].filter(Boolean).join('_'), `study_${id}`);
  }

  const names = new UniqueNames();
  const folders = new Map<number | null, string>();
  const folderNames = new UniqueNames();
  const sources: ZipSource[] = rows.map((f) => {
    let folder = folders.get(f.seriesRef);
    if (folder === undefined) {
      folder = folderNames.take(seriesFolder(f.seriesRef === null ? undefined : catalog.series(f.seriesRef)));
      folders.set(f.seriesRef, folder);
    }
    return { name: names.take(`${folder}/${instanceName(f)}`), path: deps.blobs.blobPath(f.sha256), size: f.byteSize, mtime: f.uploadedAt };
  });

  const zip = zipStream(sources);
  if (req.method !== 'HEAD') for (const f of rows) deps.audit.record('DOWNLOAD', f.id);
  res.writeHead(200, {
    'content-type': 'application/zip',
    'content-length': String(zip.length),
    'content-disposition': contentDisposition(`${archiveName}.zip`),
    'cache-control': 'private, no-store',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    zip.abort();
    res.end();
    return;
  }
  res.once('close', () => {
    if (!res.writableFinished) zip.abort();
  });
  await pipeline(zip.stream, res).catch(() => {
    // the client went away, or a blob vanished (deleted meanwhile): the response is cut short
  });
}
