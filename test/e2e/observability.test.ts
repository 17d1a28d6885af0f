/**
 * Observability and limits over real HTTP: JSON request logs without patient data, Prometheus
 * metrics, readiness, GraphQL Armor limits, the per-client rate limit and CORS.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { requestContextsActive } from '../../src/observability/request-context.js';
import { syntheticImage } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signUrl } from '../helpers/signed-url.js';

const PATIENT = 'Secretname^Patientx';
const SOP_UID = '1.2.826.0.1.3680043.99.4242';

describe('request logs', () => {
  let server: TestServer;
  const lines: string[] = [];

  beforeAll(async () => {
    server = await startTestServer({ LOG_LEVEL: 'info' }, undefined, { logDestination: { write: (line: string) => void lines.push(line) } });
  });
  afterAll(() => server.stop());

  it('logs one JSON line per request with its id, route, status and operation, and no patient data', async () => {
    const up = await server.upload({ name: 'secret.dcm', bytes: syntheticImage({ patientName: PATIENT, sopInstanceUid: SOP_UID }) });
    const id = up.body.data.uploadDicom.file.id as string;
    expect(up.body.data.uploadDicom.file.patientName).toBe(PATIENT);
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'trace-abc.123' },
      body: JSON.stringify({
        query: 'query ReadName($id: ID!) { dicomFile(id: $id) { patientName sopInstanceUid name: attribute(tag: "PatientName") { text } pngUrl } }',
        variables: { id },
      }),
    });
    expect(res.headers.get('x-request-id')).toBe('trace-abc.123');
    const body = (await res.json()) as { data: { dicomFile: { patientName: string; pngUrl: string } } };
    expect(body.data.dicomFile.patientName).toBe(PATIENT);
    const png = await fetch(signUrl(server, `${body.data.dicomFile.pngUrl}&cursor=${encodeURIComponent(PATIENT)}`));
    expect(png.status).toBe(200);
    const generated = png.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    // A request id that could smuggle anything into the logs is replaced.
    const odd = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'a b\tc' } });
    expect(odd.headers.get('x-request-id')).not.toBe('a b\tc');

    await new Promise((r) => setTimeout(r, 50));
    const all = lines.join('');
    expect(all).not.toContain('Secretname');
    expect(all).not.toContain(SOP_UID);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = records.filter((r) => r.msg === 'request');
    const read = requests.find((r) => r.reqId === 'trace-abc.123');
    expect(read).toMatchObject({ method: 'POST', route: 'graphql', status: 200, operationName: 'ReadName', operationType: 'query', level: 30 });
    expect(typeof read?.durationMs).toBe('number');
    expect(requests.find((r) => r.reqId === generated)).toMatchObject({ route: 'png', status: 200 });
    expect(requests.find((r) => r.route === 'png')?.path).not.toContain('?');
    expect(requests.find((r) => r.operationName === 'Upload')).toMatchObject({ operationType: 'mutation', status: 200 });
  });
});

describe('metrics and readiness', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  const metric = (text: string, name: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(name))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);

  it('counts requests, operations, uploads, renders and cache use at GET /metrics', async () => {
    const bytes = syntheticImage({ sopInstanceUid: '1.2.3.77' });
    const up = await server.upload({ name: 'm.dcm', bytes });
    const id = up.body.data.uploadDicom.file.id as string;
    await server.upload({ name: 'm.dcm', bytes });
    const { body } = await server.gql('query Img($id: ID!) { dicomFile(id: $id) { pngUrl } }', { id });
    expect((await fetch(body.data.dicomFile.pngUrl)).status).toBe(200);
    expect((await fetch(body.data.dicomFile.pngUrl)).status).toBe(200);
    // Two different queries: the second reads the header from the header cache (an identical
    // query would be answered by the GraphQL answer cache without reading the header).
    for (const tag of ['Rows', 'Columns']) {
      const attr = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { attribute(tag: "${tag}") { value } } }`, { id });
      expect(attr.body.data.dicomFile.attribute.value).toEqual([4]);
    }

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(metric(text, 'dicomql_uploads_total{result="stored"}')).toBe(1);
    expect(metric(text, 'dicomql_uploads_total{result="duplicate"}')).toBe(1);
    expect(metric(text, 'dicomql_uploaded_bytes_total')).toBe(2 * bytes.length);
    expect(metric(text, 'dicomql_render_duration_seconds_count{result="ok"}')).toBe(1);
    expect(metric(text, 'dicomql_png_cache_hits_total')).toBe(1);
    expect(metric(text, 'dicomql_png_cache_misses_total')).toBe(1);
    expect(metric(text, 'dicomql_http_requests_total{route="png",method="GET",status="200"}')).toBe(2);
    expect(metric(text, 'dicomql_http_request_duration_seconds_count{route="graphql"}')).toBe(5);
    expect(metric(text, 'dicomql_graphql_operations_total{operation_name="Upload",operation_type="mutation",result="success"}')).toBe(2);
    expect(metric(text, 'dicomql_graphql_operations_total{operation_name="Img",operation_type="query",result="success"}')).toBe(1);
    expect(metric(text, 'dicomql_header_cache_misses_total')).toBe(1);
    expect(metric(text, 'dicomql_header_cache_hits_total')).toBe(1);
    expect(metric(text, 'dicomql_graphql_answer_cache_total{result="miss"}')).toBe(3);
    expect(text).toContain('dicomql_render_queue_size 0');
    expect(text).toContain('dicomql_render_pool_utilization');
    expect(text).toContain('dicomql_process_cpu_seconds_total');
  });

  it('answers /readyz 200 when the database answers and the disk has room', async () => {
    const res = await fetch(`${server.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', checks: { database: { status: 'ok' }, disk: { status: 'ok' } } });
  });

  it('answers /readyz 503 naming the disk check when free space is under MIN_FREE_DISK_BYTES; /healthz stays 200', async () => {
    const full = await startTestServer({ MIN_FREE_DISK_BYTES: String(Number.MAX_SAFE_INTEGER) });
    try {
      const res = await fetch(`${full.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({ status: 'fail', checks: { database: { status: 'ok' }, disk: { status: 'fail', reason: 'low free disk space' } } });
      expect((await fetch(`${full.url}/healthz`)).status).toBe(200);
    } finally {
      await full.stop();
    }
  });
});

describe('a failed write-ahead log fsync', () => {
  it('fails the upload that waited for it, and turns /healthz and /readyz to 503 until a restart', async () => {
    let fail = false;
    const failing = await startTestServer({}, undefined, {
      walSyncFile: async () => {
        if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      },
    });
    try {
      expect((await fetch(`${failing.url}/healthz`)).status).toBe(200);
      fail = true;
      const up = await failing.upload({ name: 'a.dcm', bytes: syntheticImage({ sopInstanceUid: '1.2.3.77' }) });
      expect(up.body.data?.uploadDicom ?? null).toBeNull(); // not acknowledged: a masked internal error
      expect(up.body.errors?.[0]?.message).toBe('Unexpected error.');
      fail = false; // the disk is fine again: the process still refuses to vouch for writes
      const health = await fetch(`${failing.url}/healthz`);
      expect(health.status).toBe(503);
      expect(await health.json()).toMatchObject({ status: 'fail', reason: expect.stringContaining('restart the server') });
      const ready = await fetch(`${failing.url}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'fail', checks: { database: { status: 'ok' }, disk: { status: 'ok' }, durability: { status: 'fail' } } });
    } finally {
      await failing.stop();
    }
  });
});

describe('unexpected errors', () => {
  it('are logged with the id of the request they happened in: in a resolver and in a companion route', async () => {
    const lines: string[] = [];
    let failSync = false;
    let failPrincipal = false;
    const server = await startTestServer({ LOG_LEVEL: 'warn' }, undefined, {
      logError: undefined, // the app's own: the JSON logger
      logDestination: { write: (line: string) => void lines.push(line) },
      walSyncFile: async () => {
        if (failSync) throw new Error('EIO: i/o error, fdatasync');
      },
      principalForSignedUrl: (userId) => {
        if (failPrincipal) throw new Error('user lookup failed');
        return { userId, userName: 'local', tokenId: null, isAdmin: true };
      },
    });
    try {
      const up = await server.upload({ name: 'a.dcm', bytes: syntheticImage({ sopInstanceUid: '1.2.3.78' }) });
      const id = up.body.data.uploadDicom.file.id as string;
      const read = await server.gql('query ($id: ID!) { dicomFile(id: $id) { pngUrl } }', { id });
      const pngUrl = read.body.data.dicomFile.pngUrl as string;

      failSync = true; // the upload's resolver fails waiting for its commit
      const failed = await server.upload({ name: 'b.dcm', bytes: syntheticImage({ sopInstanceUid: '1.2.3.79' }) }, undefined, {
        'apollo-require-preflight': 'true',
        'x-request-id': 'resolver-failure-1',
      });
      expect(failed.body.errors?.[0]?.message).toBe('Unexpected error.');
      failPrincipal = true; // the image route fails before it answers
      const png = await fetch(signUrl(server, pngUrl), { headers: { 'x-request-id': 'route-failure-2' } });
      expect(png.status).toBe(500);

      // No GraphQL request in flight: the async-context hooks are off again (images and 304s do not pay for them).
      await vi.waitFor(() => expect(requestContextsActive()).toBe(false));
      // (Messages are left out of logs without LOG_PATIENT_DATA; the stacks tell which failure is which.)
      const errors = lines.map((l) => JSON.parse(l) as { msg?: string; reqId?: string; err?: { stack?: string } }).filter((r) => r.msg === 'unexpected error');
      expect(errors.find((r) => r.reqId === 'resolver-failure-1')?.err?.stack).toContain('walSyncFile');
      expect(errors.find((r) => r.reqId === 'route-failure-2')?.err?.stack).toContain('principalForSignedUrl');
    } finally {
      await server.stop();
    }
  });
});

describe('GraphQL limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ GRAPHQL_MAX_DEPTH: '6', GRAPHQL_MAX_ALIASES: '5' });
  });
  afterAll(() => server.stop());

  it('rejects a too-deep query with MAX_DEPTH_EXCEEDED', async () => {
    const res = await server.gql('{ studies { edges { node { series { edges { node { instances { edges { node { filename } } } } } } } } } }');
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors?.[0]?.extensions?.code).toBe('MAX_DEPTH_EXCEEDED');
    expect(res.body.errors?.[0]?.message).toMatch(/depth limit of 6 exceeded/i);
  });

  it('rejects an alias flood with MAX_ALIASES_EXCEEDED', async () => {
    const aliases = Array.from({ length: 20 }, (_, i) => `a${i}: dicomFile(id: "x") { id }`).join(' ');
    const res = await server.gql(`{ ${aliases} }`);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('MAX_ALIASES_EXCEEDED');
  });

  it('rejects a query over GRAPHQL_MAX_COST (page sizes multiply) with MAX_COST_EXCEEDED', async () => {
    const costly = await startTestServer({ GRAPHQL_MAX_COST: '10000' });
    try {
      const res = await costly.gql('{ studies(first: 500) { edges { node { series(first: 500) { edges { node { seriesNumber } } } } } } }');
      expect(res.body.errors?.[0]?.extensions?.code).toBe('MAX_COST_EXCEEDED');
      expect((await costly.gql('{ studies(first: 5) { totalCount } }')).body.errors).toBeUndefined();
    } finally {
      await costly.stop();
    }
  });

  it('rejects a query over GRAPHQL_MAX_TOKENS', async () => {
    const small = await startTestServer({ GRAPHQL_MAX_TOKENS: '50' });
    try {
      const fields = Array.from({ length: 60 }, () => '__typename').join(' ');
      const res = await small.gql(`{ ${fields} }`);
      expect(res.body.errors?.[0]?.extensions?.code).toBe('MAX_TOKENS_EXCEEDED');
    } finally {
      await small.stop();
    }
  });

  it('accepts queries within the limits and hides field suggestions', async () => {
    expect((await server.gql('{ a: __typename b: __typename }')).body).toEqual({ data: { a: 'Query', b: 'Query' } });
    const res = await server.gql('{ dicomFil(id: "x") { id } }');
    expect(res.body.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  it('lets the README catalog query through with the default limits', async () => {
    const defaults = await startTestServer();
    try {
      const res = await defaults.gql(`{
        studies(first: 2, filter: { patientName: "*pattern*" }) {
          totalCount
          edges { cursor node {
            id studyInstanceUid studyDate studyDateIso modalitiesInStudy numberOfSeries numberOfInstances
            patient { patientId patientName hasConflictingNames }
            series(first: 10) { edges { node { seriesNumber modality numberOfInstances
              instances(first: 5) { edges { node { filename instanceNumber isCurrentVersion } } } } } }
          } }
          pageInfo { hasNextPage endCursor }
        }
      }`);
      expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
    } finally {
      await defaults.stop();
    }
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After past the burst; probes are exempt', async () => {
    const server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '6', RATE_LIMIT_BURST: '3' });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await server.gql('{ __typename }')).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const res = await fetch(`${server.url}/graphql?query=%7B__typename%7D`);
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(10);
      expect(await res.json()).toMatchObject({ error: { code: 'RATE_LIMITED' } });
      for (const path of ['/healthz', '/readyz', '/metrics']) expect((await fetch(`${server.url}${path}`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe('CORS', () => {
  const preflight = (url: string, origin: string) =>
    fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });

  it('sends no CORS headers by default', async () => {
    const server = await startTestServer();
    try {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect((await preflight(`${server.url}/graphql`, 'https://evil.example')).status).toBe(403);
    } finally {
      await server.stop();
    }
  });

  it('allows the listed origins on GraphQL and the image route, and refuses others', async () => {
    const server = await startTestServer({ CORS_ORIGINS: 'https://viewer.example, http://localhost:5173' });
    try {
      const ok = await preflight(`${server.url}/graphql`, 'https://viewer.example');
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://viewer.example');
      expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
      expect(ok.headers.get('access-control-allow-headers')).toContain('content-type');

      const refused = await preflight(`${server.url}/graphql`, 'https://evil.example');
      expect(refused.status).toBe(403);
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();

      const up = await server.upload({ name: 'c.dcm', bytes: syntheticImage({ sopInstanceUid: '1.2.3.88' }) });
      const { body } = await server.gql('query ($id: ID!) { dicomFile(id: $id) { pngUrl } }', { id: up.body.data.uploadDicom.file.id });
      const png = await fetch(body.data.dicomFile.pngUrl, { headers: { origin: 'http://localhost:5173' } });
      expect(png.status).toBe(200);
      expect(png.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(png.headers.get('vary')).toMatch(/origin/i);
      const other = await fetch(body.data.dicomFile.pngUrl, { headers: { origin: 'https://evil.example' } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.stop();
    }
  });

  it('allows any origin with CORS_ORIGINS=*', async () => {
    const server = await startTestServer({ CORS_ORIGINS: '*' });
    try {
      const res = await preflight(`${server.url}/graphql`, 'https://anywhere.example');
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe('*');
    } finally {
      await server.stop();
    }
  });
});
