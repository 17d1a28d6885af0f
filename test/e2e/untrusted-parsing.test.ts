/**
 * Crafted uploads (STACK-NOTES, dcmjs: denial of service) are validated in the parse worker pool:
 * each gets a typed InvalidDicomError within 2 s, nothing is stored, and the server keeps
 * answering other requests meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deflateBomb, nestedSequences, storedCounts } from '../helpers/crafted.js';
import { syntheticImage } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let fileId: string;

beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0' });
  const res = await server.upload({ name: 'ok.dcm', bytes: syntheticImage() });
  expect(res.body.data?.uploadDicom.__typename).toBe('UploadDicomSuccess');
  fileId = res.body.data.uploadDicom.file.id;
});

afterAll(async () => {
  await server.stop();
});

const ATTRIBUTE_QUERY = `query ($id: ID!) { dicomFile(id: $id) { attribute(tag: "PatientName") { text } } }`;

describe('crafted uploads', () => {
  const cases: [string, () => Buffer][] = [
    ['sequences nested 10^4 deep', () => nestedSequences(10_000)],
    ['sequences nested 10^5 deep', () => nestedSequences(100_000)],
    ['deflate bomb (~200 KB → 200 MB)', () => deflateBomb()],
  ];

  for (const [name, make] of cases) {
    it(`${name}: a typed error within 2 s, nothing stored, other requests answer meanwhile`, async () => {
      const bytes = make();
      const before = storedCounts(server.dataDir);
      const started = performance.now();
      const upload = server.upload({ name: 'crafted.dcm', bytes }).then((r) => ({ r, ms: performance.now() - started }));
      // While the crafted file is being validated, an attribute query answers.
      const queryStarted = performance.now();
      const attr = await server.gql(ATTRIBUTE_QUERY, { id: fileId });
      const queryMs = performance.now() - queryStarted;
      const { r, ms } = await upload;
      console.log(`${name}: ${bytes.length} bytes → ${r.body.data?.uploadDicom?.__typename} in ${ms.toFixed(0)} ms (attribute query ${queryMs.toFixed(0)} ms): ${r.body.data?.uploadDicom?.message}`);
      expect(attr.body.data.dicomFile.attribute.text).toBe('Doe^John');
      expect(r.status).toBe(200);
      expect(r.body.data.uploadDicom).toMatchObject({ __typename: 'InvalidDicomError', code: 'INVALID_DICOM' });
      expect(ms).toBeLessThan(2000);
      expect(queryMs).toBeLessThan(1000);
      expect(storedCounts(server.dataDir)).toEqual(before);
    });
  }

  it('without the ratio check the bomb is inflated in a parse worker: the event loop stays free meanwhile', async () => {
    const loose = await startTestServer({ MAX_INFLATE_RATIO: '1000000', RATE_LIMIT_PER_MINUTE: '0' });
    try {
      const ok = await loose.upload({ name: 'ok.dcm', bytes: syntheticImage() });
      const id = ok.body.data.uploadDicom.file.id;
      const bomb = deflateBomb();
      const started = performance.now();
      let uploadDone = 0;
      const upload = loose.upload({ name: 'bomb.dcm', bytes: bomb }).then((r) => {
        uploadDone = performance.now();
        return r;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const querySent = performance.now();
      const attr = await loose.gql(ATTRIBUTE_QUERY, { id });
      const queryDone = performance.now();
      const r = await upload;
      console.log(`deflate bomb, no ratio check: ${r.body.data?.uploadDicom?.__typename} in ${(uploadDone - started).toFixed(0)} ms; attribute query sent at ${(querySent - started).toFixed(0)} ms answered in ${(queryDone - querySent).toFixed(0)} ms`);
      expect(attr.body.data.dicomFile.attribute.text).toBe('Doe^John');
      expect(['UploadDicomSuccess', 'InvalidDicomError']).toContain(r.body.data.uploadDicom.__typename);
      // The query is not stuck behind the inflate (which takes over a second).
      if (uploadDone - started > 800) expect(queryDone).toBeLessThan(uploadDone);
      expect(queryDone - querySent).toBeLessThan(500);
    } finally {
      await loose.stop();
    }
  });

  it('a parse that runs past PARSE_TIMEOUT_MS is stopped: InvalidDicomError, nothing stored, the server stays up', async () => {
    const slow = await startTestServer({ PARSE_TIMEOUT_MS: '1', MAX_INFLATE_RATIO: '1000000', RATE_LIMIT_PER_MINUTE: '0' });
    try {
      // A deflated file large enough that inflating it takes longer than 1 ms.
      const res = await slow.upload({ name: 'slow.dcm', bytes: deflateBomb(64 * 1024 * 1024) });
      expect(res.body.data.uploadDicom.__typename).toBe('InvalidDicomError');
      expect(res.body.data.uploadDicom.message).toMatch(/took longer than 1 ms|limit of 1 ms/);
      expect(storedCounts(slow.dataDir)).toEqual({ rows: 0, blobs: 0 });
      expect((await fetch(`${slow.url}/healthz`)).status).toBe(200);
    } finally {
      await slow.stop();
    }
  });
});
