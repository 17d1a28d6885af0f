/**
 * The benchmark's GraphQL client for setup (not the load): JSON queries, and multipart uploads
 * (GraphQL multipart request spec) from memory or streamed from a file on disk.
 */
import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:http';

export const UPLOAD_QUERY =
  'mutation ($file: Upload!) { uploadDicom(file: $file) { __typename ... on UploadDicomSuccess { duplicate file { id } } ... on Error { code message } } }';

const BOUNDARY = '----dicomql-bench-7d1f0c2a';

export interface UploadAnswer {
  uploadDicom: { __typename: string; duplicate?: boolean; file?: { id: string }; code?: string; message?: string };
}

/** POSTs a query; throws on HTTP errors or GraphQL errors. */
export async function gql<T>(url: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  const body = JSON.parse(text) as { data?: T; errors?: unknown[] };
  if (!res.ok || body.errors || !body.data) throw new Error(`GraphQL ${res.status}: ${text.slice(0, 500)}`);
  return body.data;
}

/** The multipart body of one uploadDicom, split around the file bytes. */
export function multipartParts(filename: string): { head: Buffer; tail: Buffer; contentType: string } {
  const operations = JSON.stringify({ query: UPLOAD_QUERY, variables: { file: null } });
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.file"]}\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="${filename}"\r\nContent-Type: application/dicom\r\n\r\n`,
  );
  return { head, tail: Buffer.from(`\r\n--${BOUNDARY}--\r\n`), contentType: `multipart/form-data; boundary=${BOUNDARY}` };
}

/** Headers of a multipart upload (the CSRF header the server requires included). */
export function uploadHeaders(contentType: string): Record<string, string> {
  return { 'content-type': contentType, 'apollo-require-preflight': 'true', accept: 'application/json' };
}

/** Uploads a file streamed from disk (never held in memory); resolves with the answer. */
export function uploadFile(url: string, path: string, filename: string): Promise<UploadAnswer> {
  const { head, tail, contentType } = multipartParts(filename);
  const size = statSync(path).size;
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/graphql`,
      { method: 'POST', headers: { ...uploadHeaders(contentType), 'content-length': String(head.length + size + tail.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            const body = JSON.parse(text) as { data?: UploadAnswer; errors?: unknown[] };
            if (res.statusCode !== 200 || !body.data) reject(new Error(`upload ${filename}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`));
            else resolve(body.data);
          } catch {
            reject(new Error(`upload ${filename}: HTTP ${res.statusCode}: ${text.slice(0, 500)}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.write(head);
    const file = createReadStream(path);
    file.on('error', reject);
    file.pipe(req, { end: false });
    file.on('end', () => req.end(tail));
  });
}

/** Uploads bytes held in memory; resolves with the answer. */
export async function uploadBytes(url: string, bytes: Uint8Array, filename: string): Promise<UploadAnswer> {
  const { head, tail, contentType } = multipartParts(filename);
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers: uploadHeaders(contentType), body: Buffer.concat([head, bytes, tail]) });
  const text = await res.text();
  const body = JSON.parse(text) as { data?: UploadAnswer };
  if (res.status !== 200 || !body.data) throw new Error(`upload ${filename}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return body.data;
}

/** The id of a successful upload; throws on a typed error. */
export function uploadedId(answer: UploadAnswer): string {
  const a = answer.uploadDicom;
  if (a.__typename !== 'UploadDicomSuccess' || !a.file) throw new Error(`upload rejected: ${a.__typename} ${a.code ?? ''} ${a.message ?? ''}`);
  return a.file.id;
}
