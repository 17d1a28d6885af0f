/**
 * Uploads that arrive together are committed together (src/storage/commit-queue.ts): over real
 * HTTP, concurrent uploads each get their own correct row, an invalid file among them does not
 * fail the others, the stored bytes are the uploaded ones (the blob is the multipart spool file,
 * hard-linked: src/storage/local-blob-store.ts), and everything is there after a restart.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { syntheticImage } from '../helpers/fixtures.js';
import { sha256 } from '../helpers/multipart.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('group commit over HTTP', () => {
  it('concurrent uploads all land with their own rows; a bad file among them fails alone', async () => {
    server = await startTestServer();
    const files = Array.from({ length: 12 }, (_, i) => ({
      name: `ct-${i}.dcm`,
      bytes: syntheticImage({ rows: 64, columns: 64, sopInstanceUid: `1.2.826.0.1.3680043.99.${i + 1}`, patientName: `Group^${i}` }),
    }));
    const bad = { name: 'bad.dcm', bytes: Buffer.from('not a dicom file at all'.repeat(20)) };
    const answers = await Promise.all([...files, bad].map((f) => server!.upload(f)));
    const results = answers.map((a) => a.body.data?.uploadDicom);
    expect(results.at(-1)).toMatchObject({ __typename: 'InvalidDicomError' });
    const stored = results.slice(0, -1);
    stored.forEach((r, i) => {
      expect(r).toMatchObject({
        __typename: 'UploadDicomSuccess',
        duplicate: false,
        file: { filename: `ct-${i}.dcm`, sha256: sha256(files[i]!.bytes), byteSize: files[i]!.bytes.length, sopInstanceUid: `1.2.826.0.1.3680043.99.${i + 1}`, patientName: 'Group^' + i },
      });
    });
    expect(new Set(stored.map((r) => r.file.id)).size).toBe(files.length);
    // Each blob holds exactly its upload's bytes; nothing is left in DATA_DIR/tmp.
    for (const [i, r] of stored.entries()) {
      const hash: string = r.file.sha256;
      const blob = join(server.dataDir, 'blobs', hash.slice(0, 2), hash.slice(2, 4), hash);
      expect(sha256(readFileSync(blob))).toBe(sha256(files[i]!.bytes));
      // Adopted, not copied: the blob is the multipart parser's spool file (created 0600 by fs-capacitor).
      expect(statSync(blob).mode & 0o777).toBe(0o600);
    }
    expect(readdirSync(join(server.dataDir, 'tmp'))).toEqual([]);
    // Every row is committed: a restart on the same DATA_DIR sees them all, with their catalog.
    const dataDir = server.dataDir;
    await server.stop({ keepData: true });
    server = await startTestServer({}, dataDir);
    expect(server.app.startupRepair).toMatchObject({ orphanBlobsRemoved: 0, rowsWithoutBlob: [], counterRepairs: 0 });
    const listed = await server.gql<{ dicomFiles: { totalCount: number }; patients: { edges: { node: { numberOfInstances: number } }[] } }>(
      '{ dicomFiles { totalCount } patients { edges { node { numberOfInstances } } } }',
    );
    expect(listed.body.data?.dicomFiles.totalCount).toBe(files.length);
    expect(listed.body.data?.patients.edges).toEqual([{ node: { numberOfInstances: files.length } }]);
    for (const r of stored) {
      const one = await server.gql('query($id: ID!) { dicomFile(id: $id) { id sha256 } }', { id: r.file.id });
      expect(one.body.data?.dicomFile).toEqual({ id: r.file.id, sha256: r.file.sha256 });
    }
  });
});
