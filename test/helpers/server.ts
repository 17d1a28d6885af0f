/**
 * A real server on 127.0.0.1:0 with a temp DATA_DIR, and small clients for its GraphQL API
 * (JSON and multipart) over real HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Config, loadConfig } from '../../src/config.js';
import { type App, type AppOptions, createApp } from '../../src/http/app.js';

export interface TestServer {
  readonly url: string;
  readonly dataDir: string;
  readonly app: App;
  readonly errors: unknown[];
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<GqlResponse<T>>;
  upload<T = any>(file: UploadFile, query?: string, headers?: Record<string, string>): Promise<GqlResponse<T>>;
  /** Stops the server; removes DATA_DIR unless keepData. */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export interface GqlResponse<T> {
  status: number;
  body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
}

export interface UploadFile {
  name: string;
  bytes: Uint8Array;
}

export const UPLOAD_MUTATION = `mutation Upload($file: Upload!) {
  uploadDicom(file: $file) {
    __typename
    ... on UploadDicomSuccess { duplicate file { id filename byteSize sha256 sopInstanceUid patientName rows columns numberOfFrames hasPixelData } }
    ... on Error { code message }
  }
}`;

export async function startTestServer(env: Record<string, string> = {}, dataDir?: string, appOptions: AppOptions = {}): Promise<TestServer> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'dicomql-test-'));
  // Quiet logs and no rate limit unless a test asks for them (suites send hundreds of requests).
  const config: Config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dir, LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '0', ...env });
  const errors: unknown[] = [];
  const app = await createApp(config, { logError: (err) => errors.push(err), ...appOptions });
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  const { port } = app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    dataDir: dir,
    app,
    errors,
    async gql(query, variables) {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: (await res.json()) as GqlResponse<any>['body'] };
    },
    async upload(file, query = UPLOAD_MUTATION, headers = { 'apollo-require-preflight': 'true' }) {
      const form = new FormData();
      form.append('operations', JSON.stringify({ query, variables: { file: null } }));
      form.append('map', JSON.stringify({ 0: ['variables.file'] }));
      form.append('0', new Blob([new Uint8Array(file.bytes)]), file.name);
      const res = await fetch(`${url}/graphql`, { method: 'POST', body: form, headers });
      const text = await res.text();
      let body: GqlResponse<any>['body'];
      try {
        body = JSON.parse(text);
      } catch {
        body = { errors: [{ message: text }] };
      }
      return { status: res.status, body };
    },
    async stop(options = {}) {
      await app.close();
      if (!options.keepData && !dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
