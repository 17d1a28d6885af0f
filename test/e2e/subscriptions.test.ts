/**
 * Live updates over real HTTP, as a browser's EventSource-style client gets them: subscriptions
 * sent with `accept: text/event-stream` receive uploads (plain, batch and ZIP entries) made after
 * they started, the study filter excludes other studies, and deletes are announced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syntheticImage } from '../helpers/fixtures.js';
import { UPLOAD_ONE, uploadFiles, zipOf } from '../helpers/multipart.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { subscribe } from '../helpers/event-stream.js';

const ADDED = `subscription ($study: String) { dicomFileAdded(studyInstanceUid: $study) { id sopInstanceUid studyInstanceUid filename } }`;
const DELETED = `subscription ($study: String) { dicomFileDeleted(studyInstanceUid: $study) { id sopInstanceUid studyInstanceUid filename } }`;

function inStudy(sop: string, study: string) {
  return syntheticImage({ sopInstanceUid: sop, extra: [{ tag: '0020000D', vr: 'UI', value: study }] });
}

describe('subscriptions over server-sent events', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('dicomFileAdded receives uploads made after it started; the study filter excludes others', async () => {
    // uploaded before: must not be announced
    await uploadFiles(server, [{ name: 'before.dcm', bytes: inStudy('1.2.3.700.0', '1.2.3.700') }]);
    const all = await subscribe(server, ADDED);
    const onlyA = await subscribe(server, ADDED, { study: '1.2.3.700' });

    const zip = await zipOf([{ name: 'z/1.dcm', bytes: inStudy('1.2.3.700.3', '1.2.3.700') }]);
    await uploadFiles(server, [{ name: 'b.dcm', bytes: inStudy('1.2.3.701.1', '1.2.3.701') }]);
    const batch = await uploadFiles(server, [
      { name: 'a.dcm', bytes: inStudy('1.2.3.700.1', '1.2.3.700') },
      { name: 'a-again.dcm', bytes: inStudy('1.2.3.700.1', '1.2.3.700') }, // duplicate bytes: not a new file
      { name: 'c.dcm', bytes: inStudy('1.2.3.700.2', '1.2.3.700') },
    ]);
    expect(batch.body.data.uploadDicoms.map((r: { duplicate: boolean }) => r.duplicate)).toEqual([false, true, false]);
    await uploadFiles(server, [{ name: 'one.zip', bytes: zip }], UPLOAD_ONE, true);

    const everything = await all.take(4);
    expect(everything.map((e) => e.data.dicomFileAdded.sopInstanceUid)).toEqual(['1.2.3.701.1', '1.2.3.700.1', '1.2.3.700.2', '1.2.3.700.3']);
    expect(everything[3].data.dicomFileAdded).toMatchObject({ filename: 'z/1.dcm', studyInstanceUid: '1.2.3.700' });
    const filtered = await onlyA.take(3);
    expect(filtered.map((e) => e.data.dicomFileAdded.sopInstanceUid)).toEqual(['1.2.3.700.1', '1.2.3.700.2', '1.2.3.700.3']);
    await new Promise((r) => setTimeout(r, 200));
    expect(all.pending()).toEqual([]);
    expect(onlyA.pending()).toEqual([]);
    all.close();
    onlyA.close();
  });

  it('dicomFileDeleted announces a deleted file, filtered by study', async () => {
    const up = await uploadFiles(server, [
      { name: 'd1.dcm', bytes: inStudy('1.2.3.710.1', '1.2.3.710') },
      { name: 'd2.dcm', bytes: inStudy('1.2.3.711.1', '1.2.3.711') },
    ]);
    const [d1, d2] = up.body.data.uploadDicoms.map((r: { file: { id: string } }) => r.file.id);
    const deleted = await subscribe(server, DELETED, { study: '1.2.3.710' });
    const del = `mutation ($id: ID!) { deleteDicomFile(id: $id) { __typename ... on DeleteResult { deletedFiles deletedIds } } }`;
    expect((await server.gql(del, { id: d2 })).body.data.deleteDicomFile).toMatchObject({ __typename: 'DeleteResult', deletedFiles: 1 });
    expect((await server.gql(del, { id: d1 })).body.data.deleteDicomFile).toMatchObject({ deletedIds: [d1] });
    const [event] = await deleted.take(1);
    expect(event.data.dicomFileDeleted).toEqual({ id: d1, sopInstanceUid: '1.2.3.710.1', studyInstanceUid: '1.2.3.710', filename: 'd1.dcm' });
    await new Promise((r) => setTimeout(r, 200));
    expect(deleted.pending()).toEqual([]);
    deleted.close();
  });

  it('a patient delete announces each file with its study, so study filters see it', async () => {
    const patient = (sop: string, study: string) =>
      syntheticImage({ sopInstanceUid: sop, extra: [{ tag: '00100020', vr: 'LO', value: 'PAT-720' }, { tag: '0020000D', vr: 'UI', value: study }] });
    const up = await uploadFiles(server, [
      { name: 'p1.dcm', bytes: patient('1.2.3.720.1', '1.2.3.720') },
      { name: 'p2.dcm', bytes: patient('1.2.3.721.1', '1.2.3.721') },
    ]);
    const fileId = up.body.data.uploadDicoms[0].file.id;
    const q = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { patient { id } } }`, { id: fileId });
    const deleted = await subscribe(server, DELETED, { study: '1.2.3.721' });
    const del = await server.gql(`mutation ($id: ID!) { deletePatient(id: $id) { __typename ... on DeleteResult { deletedFiles } } }`, {
      id: q.body.data.dicomFile.patient.id,
    });
    expect(del.body.data.deletePatient).toEqual({ __typename: 'DeleteResult', deletedFiles: 2 });
    const [event] = await deleted.take(1);
    expect(event.data.dicomFileDeleted).toMatchObject({ sopInstanceUid: '1.2.3.721.1', studyInstanceUid: '1.2.3.721', filename: 'p2.dcm' });
    await new Promise((r) => setTimeout(r, 200));
    expect(deleted.pending()).toEqual([]);
    deleted.close();
  });

  it('closes open event streams when the server closes', async () => {
    const other = await startTestServer();
    await subscribe(other, ADDED);
    const started = Date.now();
    await other.stop();
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
