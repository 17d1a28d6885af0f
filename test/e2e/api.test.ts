/**
 * End-to-end over real HTTP against a server on 127.0.0.1:0 with a temp DATA_DIR, using
 * synthetic files generated here (so it runs on a fresh clone, without the shared corpus).
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicElements, buildDicom, EXPLICIT_BE, IMPLICIT_LE, JPEG_BASELINE } from '../helpers/dicom-builder.js';
import { imagePixelElements, syntheticImage } from '../helpers/fixtures.js';
import { decodePng } from '../helpers/psnr.js';
import { startTestServer, type TestServer, UPLOAD_MUTATION } from '../helpers/server.js';
import { signUrl } from '../helpers/signed-url.js';

/** Every file under DATA_DIR/blobs and DATA_DIR/tmp. */
function storedFiles(dataDir: string): { blobs: string[]; tmp: string[] } {
  const walk = (dir: string): string[] =>
    existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]))
      : [];
  return { blobs: walk(join(dataDir, 'blobs')), tmp: walk(join(dataDir, 'tmp')) };
}

async function uploadOk(server: TestServer, bytes: Uint8Array, name = 'image.dcm') {
  const res = await server.upload({ name, bytes });
  expect(res.status).toBe(200);
  const result = res.body.data?.uploadDicom;
  expect(result?.__typename, JSON.stringify(res.body)).toBe('UploadDicomSuccess');
  return result as { duplicate: boolean; file: { id: string; filename: string; sha256: string; byteSize: number } };
}

async function fileCount(server: TestServer): Promise<number> {
  return server.app.server.listening ? storedFiles(server.dataDir).blobs.length : -1;
}

describe('upload → attribute → pngUrl → PNG', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('serves health', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers unknown paths with a JSON 404', async () => {
    for (const path of ['/nope', '/files/x', '/graphql/extra', '/series/abc.zip']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code, path).toBe('NOT_FOUND');
    }
  });

  it('stores a file and reads any attribute by every tag spelling', async () => {
    const bytes = syntheticImage({ window: { center: 25, width: 100 }, patientName: 'Doe^Jane', sopInstanceUid: '1.2.3.100' });
    const { file, duplicate } = await uploadOk(server, bytes, 'ct.dcm');
    expect(duplicate).toBe(false);
    expect(file.byteSize).toBe(bytes.length);
    expect(file.filename).toBe('ct.dcm');

    const res = await server.gql(
      `query ($id: ID!) { dicomFile(id: $id) {
        id sopInstanceUid patientName rows columns numberOfFrames hasPixelData uploadedAt
        a: attribute(tag: "(0010,0010)") { tag keyword name vr vm value text }
        b: attribute(tag: "0010,0010") { value }
        c: attribute(tag: "00100010") { value }
        d: attribute(tag: "patientname") { value }
        e: attribute(tag: "PatientName") { value }
        f: attribute(tag: "(0028,0010)") { vr value text }
        g: attribute(tag: "00281050") { vr value }
        ts: attribute(tag: "TransferSyntaxUID") { value }
        absent: attribute(tag: "(0018,0050)") { value }
        pixels: attribute(tag: "PixelData") { vr vm value text }
        list: attributes(tags: ["Rows", "(0018,0050)", "Columns"]) { keyword value }
      } }`,
      { id: file.id },
    );
    expect(res.body.errors).toBeUndefined();
    const f = res.body.data.dicomFile;
    expect(f).toMatchObject({ id: file.id, sopInstanceUid: '1.2.3.100', patientName: 'Doe^Jane', rows: 4, columns: 4, numberOfFrames: 1, hasPixelData: true });
    expect(new Date(f.uploadedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(f.a).toEqual({ tag: '00100010', keyword: 'PatientName', name: "Patient's Name", vr: 'PN', vm: 1, value: [{ Alphabetic: 'Doe^Jane' }], text: 'Doe^Jane' });
    for (const k of ['b', 'c', 'd', 'e']) expect(f[k].value).toEqual([{ Alphabetic: 'Doe^Jane' }]);
    expect(f.f).toEqual({ vr: 'US', value: [4], text: '4' });
    expect(f.g).toEqual({ vr: 'DS', value: [25] });
    expect(f.ts.value).toEqual(['1.2.840.10008.1.2.1']);
    expect(f.absent).toBeNull();
    expect(f.pixels).toMatchObject({ vr: 'OW', vm: 1, value: null });
    expect(f.pixels.text).toContain('32');
    expect(f.list).toEqual([
      { keyword: 'Rows', value: [4] },
      { keyword: 'Columns', value: [4] },
    ]);
  });

  it('lists every top-level element, file meta first, in tag order', async () => {
    const { file } = await uploadOk(server, syntheticImage({ sopInstanceUid: '1.2.3.101' }));
    const res = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { attributes { tag } } }`, { id: file.id });
    const tags: string[] = res.body.data.dicomFile.attributes.map((a: { tag: string }) => a.tag);
    expect(tags[0]).toBe('00020000');
    expect(tags).toEqual([...tags].sort());
    expect(tags).toContain('00100020');
    expect(tags.at(-1)).toBe('7FE00010');
  });

  it('gives sequence items, private tags and binary values their DICOM JSON shape', async () => {
    const bytes = buildDicom({
      elements: basicElements([
        { tag: '00081140', vr: 'SQ', items: [[{ tag: '00081150', vr: 'UI', value: '1.2.840.10008.5.1.4.1.1.2' }, { tag: '00081155', vr: 'UI', value: '9.8.7' }]] },
        { tag: '00091010', vr: 'LO', value: 'private value' },
        { tag: '00181310', vr: 'US', value: [0, 512, 512, 0] },
        { tag: '00291010', vr: 'OB', value: new Uint8Array(10) },
        { tag: '00209165', vr: 'AT', value: [0x00100020] },
      ]),
    });
    const { file } = await uploadOk(server, bytes, 'seq.dcm');
    const res = await server.gql(
      `query ($id: ID!) { dicomFile(id: $id) {
        seq: attribute(tag: "ReferencedImageSequence") { vr vm value items { attribute(tag: "ReferencedSOPInstanceUID") { value } attributes { tag } } }
        priv: attribute(tag: "(0009,1010)") { keyword name vr value }
        multi: attribute(tag: "AcquisitionMatrix") { vm value text }
        bin: attribute(tag: "00291010") { vr value text }
        at: attribute(tag: "00209165") { value }
        pngUrl
      } }`,
      { id: file.id },
    );
    expect(res.body.errors).toBeUndefined();
    const f = res.body.data.dicomFile;
    expect(f.seq).toMatchObject({ vr: 'SQ', value: null });
    expect(f.seq.items).toHaveLength(1);
    expect(f.seq.items[0].attribute.value).toEqual(['9.8.7']);
    expect(f.seq.items[0].attributes.map((a: { tag: string }) => a.tag)).toEqual(['00081150', '00081155']);
    expect(f.priv).toEqual({ keyword: null, name: null, vr: 'LO', value: ['private value'] });
    expect(f.multi).toEqual({ vm: 4, value: [0, 512, 512, 0], text: '0\\512\\512\\0' });
    expect(f.bin.value).toBeNull();
    expect(f.bin.vr).toBe('OB');
    expect(f.bin.text).toContain('10');
    expect(f.at.value).toEqual(['00100020']);
    expect(f.pngUrl).toBeNull(); // no pixel data
  });

  it('renders the PNG with the file window, a given window, and MONOCHROME1 inverted', async () => {
    // 16 values -50, -40, … 100; window 25/100 maps ≤ -25 to black and > 74 to white (PS3.3 C.11.2.1.2)
    const { file } = await uploadOk(server, syntheticImage({ window: { center: 25, width: 100 }, sopInstanceUid: '1.2.3.102' }));
    const q = await server.gql(
      `query ($id: ID!) { dicomFile(id: $id) { pngUrl wide: pngUrl(frame: 1, window: { center: 25, width: 1000 }) } }`,
      { id: file.id },
    );
    const { pngUrl, wide } = q.body.data.dicomFile;
    expect(pngUrl).toMatch(new RegExp(`^${server.url}/files/[0-9a-f-]+/frames/1\\.png\\?v=[0-9a-f]{16}r\\d+&u=1&exp=\\d+&sig=[A-Za-z0-9_-]{43}$`));
    const res = await fetch(pngUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = decodePng(Buffer.from(await res.arrayBuffer()));
    expect([png.width, png.height]).toEqual([4, 4]);
    const gray = Array.from({ length: 16 }, (_, i) => png.data[i * 4]!);
    expect(gray[0]).toBe(0); // -50
    expect(gray[2]).toBe(0); // -30 ≤ -25
    expect(gray[13]).toBe(255); // 80 > 74
    expect(gray[15]).toBe(255);
    expect(Math.abs(gray[7]! - ((20 - 24.5) / 99 + 0.5) * 255)).toBeLessThanOrEqual(1); // x = 20
    for (let i = 1; i < 16; i++) expect(gray[i]!).toBeGreaterThanOrEqual(gray[i - 1]!);

    const wideRes = await fetch(wide);
    const widePng = decodePng(Buffer.from(await wideRes.arrayBuffer()));
    expect(widePng.data[0]).toBeGreaterThan(0); // -50 is inside a 1000-wide window
    expect(widePng.data[15 * 4]).toBeLessThan(255);

    const mono1 = await uploadOk(server, syntheticImage({ window: { center: 25, width: 100 }, photometric: 'MONOCHROME1', sopInstanceUid: '1.2.3.103' }));
    const q1 = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl } }`, { id: mono1.file.id });
    const inv = decodePng(Buffer.from(await (await fetch(q1.body.data.dicomFile.pngUrl)).arrayBuffer()));
    // dcmtk-compatible truncation can differ by one level between the two polarities
    for (let i = 0; i < 16; i++) expect(Math.abs(inv.data[i * 4]! - (255 - gray[i]!))).toBeLessThanOrEqual(1);
    expect([inv.data[0], inv.data[15 * 4]]).toEqual([255, 0]);
  });

  it('renders big endian and implicit VR files, and every frame of a multi-frame file', async () => {
    for (const [ts, uid] of [
      [EXPLICIT_BE, '1.2.3.104'],
      [IMPLICIT_LE, '1.2.3.105'],
    ] as const) {
      const { file } = await uploadOk(server, syntheticImage({ transferSyntax: ts, window: { center: 25, width: 100 }, sopInstanceUid: uid }));
      const q = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl } }`, { id: file.id });
      const png = decodePng(Buffer.from(await (await fetch(q.body.data.dicomFile.pngUrl)).arrayBuffer()));
      expect(png.data[0]).toBe(0);
      expect(png.data[15 * 4]).toBe(255);
    }
    const values = [...Array(16).fill(0), ...Array(16).fill(1000)];
    const { file } = await uploadOk(server, syntheticImage({ frames: 2, values, window: { center: 500, width: 100 }, sopInstanceUid: '1.2.3.106' }));
    const q = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { numberOfFrames one: pngUrl(frame: 1) two: pngUrl(frame: 2) } }`, { id: file.id });
    expect(q.body.data.dicomFile.numberOfFrames).toBe(2);
    const one = decodePng(Buffer.from(await (await fetch(q.body.data.dicomFile.one)).arrayBuffer()));
    const two = decodePng(Buffer.from(await (await fetch(q.body.data.dicomFile.two)).arrayBuffer()));
    expect(one.data[0]).toBe(0);
    expect(two.data[0]).toBe(255);
  });

  it('answers 304 to a repeated request with the ETag', async () => {
    const { file } = await uploadOk(server, syntheticImage({ sopInstanceUid: '1.2.3.107' }));
    const q = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl } }`, { id: file.id });
    const first = await fetch(q.body.data.dicomFile.pngUrl);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{32}-r\d+-1"$/);
    const again = await fetch(q.body.data.dicomFile.pngUrl, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
  });
});

describe('errors and bad inputs', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ MAX_UPLOAD_BYTES: '4096', MAX_RENDER_PIXELS: '100' });
  });
  afterAll(() => server.stop());

  it.each([
    ['an empty file', Buffer.alloc(0)],
    ['a text file', Buffer.from('hello, this is not a DICOM file at all\n'.repeat(20))],
    ['random bytes', Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 7919) % 256))],
    ['a truncated DICOM file', syntheticImage({ rows: 8, columns: 8 }).subarray(0, 300)],
    ['a DICOM file cut inside its pixel data', syntheticImage({ rows: 8, columns: 8 }).subarray(0, -7)],
  ])('rejects %s with InvalidDicomError and stores nothing', async (_what, bytes) => {
    const res = await server.upload({ name: 'bad.dcm', bytes });
    expect(res.status).toBe(200);
    expect(res.body.data.uploadDicom).toMatchObject({ __typename: 'InvalidDicomError', code: 'INVALID_DICOM' });
    expect(res.body.data.uploadDicom.message.length).toBeGreaterThan(10);
    expect(storedFiles(server.dataDir)).toEqual({ blobs: [], tmp: [] });
  });

  it('says why a truncated file is rejected', async () => {
    const res = await server.upload({ name: 'cut.dcm', bytes: syntheticImage({ rows: 8, columns: 8 }).subarray(0, -7) });
    expect(res.body.data.uploadDicom.message).toMatch(/truncat|ends/i);
  });

  it('rejects a file over MAX_UPLOAD_BYTES with FileTooLargeError and stores nothing', async () => {
    const res = await server.upload({ name: 'big.dcm', bytes: syntheticImage({ rows: 64, columns: 64 }) });
    expect(res.body.data.uploadDicom).toMatchObject({ __typename: 'FileTooLargeError', code: 'FILE_TOO_LARGE' });
    expect(storedFiles(server.dataDir)).toEqual({ blobs: [], tmp: [] });
  });

  it('refuses a multipart request without a CSRF preflight header (403, nothing stored)', async () => {
    const res = await server.upload({ name: 'a.dcm', bytes: syntheticImage() }, UPLOAD_MUTATION, {});
    expect(res.status).toBe(403);
    expect(storedFiles(server.dataDir).blobs).toEqual([]);
  });

  it('answers 400 to a multipart request with a missing or wrong map', async () => {
    const send = async (fields: [string, string | Blob][]) => {
      const form = new FormData();
      for (const [k, v] of fields) form.append(k, v);
      return fetch(`${server.url}/graphql`, { method: 'POST', body: form, headers: { 'apollo-require-preflight': 'true' } });
    };
    const ops = JSON.stringify({ query: UPLOAD_MUTATION, variables: { file: null } });
    const file = new Blob([new Uint8Array(syntheticImage())]);
    const noMap = await send([['operations', ops]]);
    expect(noMap.status).toBe(400);
    const badPath = await send([
      ['operations', ops],
      ['map', JSON.stringify({ 0: ['variables.nothere'] })],
      ['0', file],
    ]);
    expect(badPath.status).toBe(400);
    const notJson = await send([
      ['operations', ops],
      ['map', '{not json'],
      ['0', file],
    ]);
    expect(notJson.status).toBe(400);
    const body = await notJson.json();
    expect(body.error.message).toMatch(/map/);
    expect(storedFiles(server.dataDir)).toEqual({ blobs: [], tmp: [] });
  });

  it('gives INVALID_TAG for malformed tags, before opening the file', async () => {
    const { file } = await uploadOk(server, syntheticImage({ sopInstanceUid: '1.2.3.200' }));
    for (const tag of ['(0010,002)', 'zz', '0010;0020', 'NotAKeyword', '(0010,0020', '']) {
      const res = await server.gql(`query ($id: ID!, $tag: String!) { dicomFile(id: $id) { attribute(tag: $tag) { value } } }`, { id: file.id, tag });
      expect(res.body.errors?.[0]?.extensions?.code, tag).toBe('INVALID_TAG');
      expect(res.body.errors?.[0]?.message).toContain('tag');
    }
    const list = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { attributes(tags: ["Rows", "bogus!"]) { value } } }`, { id: file.id });
    expect(list.body.errors?.[0]?.extensions?.code).toBe('INVALID_TAG');
  });

  it('answers null for unknown ids', async () => {
    for (const id of ['RGljb21GaWxlOm5vcGU=', 'not-an-id', '']) {
      const res = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { id } }`, { id });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.dicomFile).toBeNull();
    }
  });

  it('keeps a file name with ../ as metadata only', async () => {
    const { file } = await uploadOk(server, syntheticImage({ sopInstanceUid: '1.2.3.201' }), '../../../etc/evil.dcm');
    // The multipart parser (busboy) keeps only the base name; it is never used as a path anyway.
    expect(file.filename).toBe('evil.dcm');
    const blobs = storedFiles(server.dataDir).blobs;
    expect(blobs.some((p) => p.endsWith(file.sha256))).toBe(true);
    expect(blobs.every((p) => p.startsWith(join(server.dataDir, 'blobs')))).toBe(true);
    expect(existsSync(join(server.dataDir, '..', '..', 'etc', 'evil.dcm'))).toBe(false);
  });

  it('image route: 404 unknown id / no pixel data, 400 frame or window, 422 corrupt codestream, 415 no decoder, 422 inconsistent', async () => {
    const json = async (url: string) => {
      const res = await fetch(url);
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as { error: { code: string; message: string } } };
    };
    const unknown = await json(signUrl(server, '/files/00000000-0000-0000-0000-000000000000/frames/1.png'));
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(unknown.type).toContain('application/json');

    const noPixels = await uploadOk(server, buildDicom({ elements: basicElements([{ tag: '00200013', vr: 'IS', value: '7' }]) }));
    const base = `${server.url}/files/${Buffer.from(noPixels.file.id, 'base64').toString().split(':')[1]}`;
    expect(await json(signUrl(server, `${base}/frames/1.png`))).toMatchObject({ status: 404, body: { error: { code: 'NO_PIXEL_DATA' } } });

    const img = await uploadOk(server, syntheticImage({ sopInstanceUid: '1.2.3.202' }));
    const q = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl } }`, { id: img.file.id });
    const url: string = q.body.data.dicomFile.pngUrl;
    expect(await json(signUrl(server, url.replace('/frames/1.png', '/frames/2.png')))).toMatchObject({ status: 400, body: { error: { code: 'FRAME_OUT_OF_RANGE' } } });
    expect(await json(signUrl(server, `${url}&center=10&width=0`))).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT' } } });
    expect(await json(signUrl(server, `${url}&center=10`))).toMatchObject({ status: 400, body: { error: { code: 'INVALID_ARGUMENT' } } });
    const gqlFrame = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl(frame: 3) } }`, { id: img.file.id });
    expect(gqlFrame.body.errors?.[0]?.extensions?.code).toBe('FRAME_OUT_OF_RANGE');
    const gqlWindow = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl(window: { center: 1, width: -5 }) } }`, { id: img.file.id });
    expect(gqlWindow.body.errors?.[0]?.extensions?.code).toBe('INVALID_ARGUMENT');

    const jpeg = buildDicom({
      transferSyntax: JPEG_BASELINE,
      elements: basicElements(imagePixelElements({ rows: 2, columns: 2 })),
      pixelData: { fragments: [new Uint8Array([0xff, 0xd8, 0xff, 0xd9])] },
    });
    const jpegFile = await uploadOk(server, jpeg);
    const jq = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { transferSyntaxUid pngUrl attribute(tag: "PixelData") { vr text } } }`, {
      id: jpegFile.file.id,
    });
    expect(jq.body.data.dicomFile.transferSyntaxUid).toBe(JPEG_BASELINE);
    // empty offset table item (8) + one 4-byte fragment item (12) + sequence delimiter (8)
    expect(jq.body.data.dicomFile.attribute).toEqual({ vr: 'OB', text: '(OB, 28 bytes)' });
    // A JPEG codestream with no frame header: the decoder refuses it, saying why.
    const corrupt = await json(jq.body.data.dicomFile.pngUrl);
    expect(corrupt).toMatchObject({ status: 422, body: { error: { code: 'INVALID_PIXEL_DATA' } } });
    expect(corrupt.body.error.message).toMatch(/JPEG codestream: no frame header/);

    // A transfer syntax without a decoder: 415 naming it.
    const mpeg2 = '1.2.840.10008.1.2.4.100';
    const mpegFile = await uploadOk(server, buildDicom({ transferSyntax: mpeg2, elements: basicElements(imagePixelElements({ rows: 2, columns: 2 })), pixelData: { fragments: [new Uint8Array([0, 0, 1, 0xb3])] }, meta: { sopInstanceUid: '1.2.3.204' } }));
    const mq = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl } }`, { id: mpegFile.file.id });
    const unsupported = await json(mq.body.data.dicomFile.pngUrl);
    expect(unsupported).toMatchObject({ status: 415, body: { error: { code: 'UNSUPPORTED_TRANSFER_SYNTAX' } } });
    expect(unsupported.body.error.message).toContain(mpeg2);

    // Stored as archives do, attributes served, PNG 422 saying what is inconsistent.
    const short = await uploadOk(server, syntheticImage({ rows: 8, columns: 8, truncatePixelDataTo: 20, sopInstanceUid: '1.2.3.203' }));
    const sq = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { rows attribute(tag: "Columns") { value } pngUrl } }`, { id: short.file.id });
    expect(sq.body.data.dicomFile).toMatchObject({ rows: 8, attribute: { value: [8] } });
    const inconsistent = await json(sq.body.data.dicomFile.pngUrl);
    expect(inconsistent).toMatchObject({ status: 422, body: { error: { code: 'INCONSISTENT_IMAGE' } } });
    expect(inconsistent.body.error.message).toMatch(/20 bytes/);

    const noRows = await uploadOk(
      server,
      buildDicom({
        elements: basicElements([
          { tag: '00280002', vr: 'US', value: 1 },
          { tag: '00280004', vr: 'CS', value: 'MONOCHROME2' },
          { tag: '00280011', vr: 'US', value: 2 },
          { tag: '00280100', vr: 'US', value: 8 },
        ]).map((e) => (e.tag === '00080018' ? { ...e, value: '1.2.3.204' } : e)),
        pixelData: { native: new Uint8Array(4), vr: 'OB' },
      }),
    );
    const nq = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl } }`, { id: noRows.file.id });
    const noRowsRes = await json(nq.body.data.dicomFile.pngUrl);
    expect(noRowsRes).toMatchObject({ status: 422, body: { error: { code: 'INCONSISTENT_IMAGE' } } });
    expect(noRowsRes.body.error.message).toMatch(/Rows/);
  });

  it('answers 422 IMAGE_TOO_LARGE past MAX_RENDER_PIXELS', async () => {
    const { file } = await uploadOk(server, syntheticImage({ rows: 16, columns: 16, sopInstanceUid: '1.2.3.206' }));
    const q = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl } }`, { id: file.id });
    const res = await fetch(q.body.data.dicomFile.pngUrl);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('IMAGE_TOO_LARGE');
    expect(body.error.message).toContain('256');
  });

  it('masks unexpected errors: no internal message or stack reaches the client', async () => {
    const { file } = await uploadOk(server, syntheticImage({ sopInstanceUid: '1.2.3.205' }));
    // Break the store behind the server's back: the blob disappears.
    rmSync(storedFiles(server.dataDir).blobs.find((p) => p.endsWith(file.sha256))!);
    const res = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { sha256 attribute(tag: "Rows") { value } } }`, { id: file.id });
    expect(res.body.data.dicomFile.sha256).toBe(file.sha256); // indexed fields still answer
    expect(res.body.errors?.[0]?.message).toBe('Unexpected error.');
    expect(JSON.stringify(res.body)).not.toMatch(/ENOENT|blobs|at .*\.ts/);
    expect(server.errors.length).toBeGreaterThan(0); // logged on the server side
    const png = await fetch(signUrl(server, `/files/${Buffer.from(file.id, 'base64').toString().split(':')[1]}/frames/1.png`));
    expect(png.status).toBe(500);
    expect(await png.text()).not.toMatch(/ENOENT|blobs/);
  });
});

describe('storage semantics', () => {
  it('keeps both files with the same name, dedupes identical bytes, survives a restart', async () => {
    let server = await startTestServer();
    const dataDir = server.dataDir;
    const a = syntheticImage({ sopInstanceUid: '1.2.3.300' });
    const b = syntheticImage({ sopInstanceUid: '1.2.3.301' });
    const first = await uploadOk(server, a, 'same-name.dcm');
    const second = await uploadOk(server, b, 'same-name.dcm');
    expect(second.file.id).not.toBe(first.file.id);
    expect(second.duplicate).toBe(false);
    const again = await uploadOk(server, a, 'other-name.dcm');
    expect(again).toMatchObject({ duplicate: true, file: { id: first.file.id, filename: 'same-name.dcm' } });
    expect(storedFiles(dataDir).blobs).toHaveLength(2);

    // Concurrent uploads of the same new bytes end with one record.
    const c = syntheticImage({ sopInstanceUid: '1.2.3.302' });
    const results = await Promise.all([uploadOk(server, c), uploadOk(server, c), uploadOk(server, c)]);
    expect(new Set(results.map((r) => r.file.id)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);

    await server.stop({ keepData: true });
    server = await startTestServer({}, dataDir);
    try {
      const res = await server.gql(
        `query ($a: ID!, $b: ID!) { a: dicomFile(id: $a) { filename sha256 attribute(tag: "SOPInstanceUID") { value } pngUrl } b: dicomFile(id: $b) { sopInstanceUid } }`,
        { a: first.file.id, b: second.file.id },
      );
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.a).toMatchObject({ filename: 'same-name.dcm', sha256: first.file.sha256, attribute: { value: ['1.2.3.300'] } });
      expect(res.body.data.b.sopInstanceUid).toBe('1.2.3.301');
      expect((await fetch(res.body.data.a.pngUrl)).status).toBe(200);
      expect(statSync(join(dataDir, 'dicomql.sqlite')).size).toBeGreaterThan(0);
      expect(await fileCount(server)).toBe(3);
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reads the header lazily: indexed fields without opening the file, one parse cached', async () => {
    const server = await startTestServer();
    try {
      const { file } = await uploadOk(server, syntheticImage({ sopInstanceUid: '1.2.3.400', patientName: 'Lazy^Larry' }));
      const blob = storedFiles(server.dataDir).blobs.find((p) => p.endsWith(file.sha256))!;
      // First attribute request parses the header and caches it…
      const one = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { attribute(tag: "PatientName") { value } } }`, { id: file.id });
      expect(one.body.data.dicomFile.attribute.value).toEqual([{ Alphabetic: 'Lazy^Larry' }]);
      rmSync(blob);
      // …so later ones never touch the file, and neither do queries without attributes.
      const two = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { patientName filename attribute(tag: "Rows") { value } attributes(tags: ["Columns"]) { value } } }`, {
        id: file.id,
      });
      expect(two.body.errors).toBeUndefined();
      expect(two.body.data.dicomFile).toMatchObject({ patientName: 'Lazy^Larry', attribute: { value: [4] }, attributes: [{ value: [4] }] });
    } finally {
      await server.stop();
    }
  });
});
