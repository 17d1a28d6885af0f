import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { syntheticImage } from '../helpers/fixtures.js';
import { startTestServer } from '../helpers/server.js';

const query = `query ($id: ID!) { dicomFile(id: $id) { pngUrl } }`;

describe('absolute URLs', () => {
  it('derive from the request by default', async () => {
    const server = await startTestServer();
    try {
      const up = await server.upload({ name: 'a.dcm', bytes: syntheticImage() });
      const { body } = await server.gql(query, { id: up.body.data.uploadDicom.file.id });
      expect(body.data.dicomFile.pngUrl.startsWith(`${server.url}/files/`)).toBe(true);
      // fetch() will not send another Host header; node:http will.
      const other = await new Promise<string>((resolve, reject) => {
        const req = request(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', host: 'viewer.local:8443' } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end(JSON.stringify({ query, variables: { id: up.body.data.uploadDicom.file.id } }));
      });
      expect(JSON.parse(other).data.dicomFile.pngUrl.startsWith('http://viewer.local:8443/files/')).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('use PUBLIC_URL when set (e.g. behind a TLS proxy)', async () => {
    const server = await startTestServer({ PUBLIC_URL: 'https://pacs.example.org/dicomql/' });
    try {
      const up = await server.upload({ name: 'a.dcm', bytes: syntheticImage() });
      const { body } = await server.gql(query, { id: up.body.data.uploadDicom.file.id });
      expect(body.data.dicomFile.pngUrl).toMatch(/^https:\/\/pacs\.example\.org\/dicomql\/files\/[0-9a-f-]+\/frames\/1\.png/);
    } finally {
      await server.stop();
    }
  });
});
