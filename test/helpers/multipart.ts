/** Multipart requests with several files (GraphQL multipart request spec), and ZIP archives built in memory. */
import { createHash } from 'node:crypto';
import { ZipFile } from 'yazl';
import type { GqlResponse, TestServer } from './server.js';

export interface MultipartFile {
  name: string;
  bytes?: Uint8Array;
  /** Instead of bytes: e.g. a Blob backed by a file on disk (fs.openAsBlob). */
  blob?: Blob;
}

export const UPLOAD_MANY = `mutation Upload($files: [Upload!]!) {
  uploadDicoms(files: $files) {
    __typename
    ... on UploadDicomSuccess { duplicate file { id filename sha256 byteSize studyInstanceUid sopInstanceUid } source { filename archiveEntry index } }
    ... on Error { code message }
    ... on InvalidDicomError { source { filename archiveEntry index } }
    ... on FileTooLargeError { source { filename archiveEntry index } }
    ... on ArchiveError { source { filename archiveEntry index } }
  }
}`;

export const UPLOAD_ONE = `mutation Upload($file: Upload!) {
  uploadDicom(file: $file) {
    __typename
    ... on UploadDicomSuccess { duplicate file { id filename sha256 } source { filename archiveEntry index } }
    ... on Error { code message }
    ... on ArchiveError { source { filename archiveEntry index } }
  }
}`;

/** POSTs `files` as variables.files[i] (or variables.file when `single`). */
export async function uploadFiles<T = any>(server: TestServer, files: readonly MultipartFile[], query = UPLOAD_MANY, single = false): Promise<GqlResponse<T>> {
  const form = new FormData();
  const variables = single ? { file: null } : { files: files.map(() => null) };
  form.append('operations', JSON.stringify({ query, variables }));
  form.append('map', JSON.stringify(Object.fromEntries(files.map((_, i) => [String(i), [single ? 'variables.file' : `variables.files.${i}`]]))));
  files.forEach((f, i) => form.append(String(i), f.blob ?? new Blob([new Uint8Array(f.bytes!)]), f.name));
  const res = await fetch(`${server.url}/graphql`, { method: 'POST', body: form, headers: { 'apollo-require-preflight': 'true' } });
  const text = await res.text();
  let body: GqlResponse<T>['body'];
  try {
    body = JSON.parse(text);
  } catch {
    body = { errors: [{ message: text }] };
  }
  return { status: res.status, body };
}

export interface ZipInput {
  name: string;
  bytes: Uint8Array;
  /** Default true (deflate). */
  compress?: boolean;
}

/** A ZIP archive of the given entries, in memory (yazl). */
export async function zipOf(entries: readonly ZipInput[]): Promise<Buffer> {
  const zip = new ZipFile();
  for (const e of entries) zip.addBuffer(Buffer.from(e.bytes), e.name, { compress: e.compress ?? true });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Rewrites the uncompressed size of every entry (local headers and central directory) to
 * `declared`: an archive whose entries inflate to more than they declare.
 */
export function lieAboutSizes(zip: Buffer, declared: number): Buffer {
  const out = Buffer.from(zip);
  for (let i = 0; i + 4 <= out.length; i++) {
    const sig = out.readUInt32LE(i);
    if (sig === 0x04034b50) out.writeUInt32LE(declared, i + 22);
    else if (sig === 0x02014b50) out.writeUInt32LE(declared, i + 24);
  }
  return out;
}

/** Replaces an entry name by another of the same length (local header and central directory): names yazl refuses to write. */
export function renameEntry(zip: Buffer, from: string, to: string): Buffer {
  if (Buffer.byteLength(from) !== Buffer.byteLength(to)) throw new Error('names must have the same length');
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  for (let i = out.indexOf(needle); i !== -1; i = out.indexOf(needle, i + 1)) Buffer.from(to).copy(out, i);
  return out;
}
