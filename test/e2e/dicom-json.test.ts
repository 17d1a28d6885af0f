/**
 * DicomFile.dicomJson and its BulkDataURIs over real HTTP: synthetic files (nested bulk data,
 * inline binary, 404s), and the corpus — the 14 manifest tags compared under the oracle's rules,
 * and every file's Pixel Data bulk data equal to the value bytes in the file (little endian).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import { littleEndianBytes } from '../../src/dicom/dicom-json.js';
import { datasetSource, scanDicom } from '../../src/dicom/scan.js';
import { corpusOrSkip, type ManifestElement } from '../helpers/corpus.js';
import { basicElements, buildDicom } from '../helpers/dicom-builder.js';
import { uploadFiles } from '../helpers/multipart.js';
import { compareElement } from '../helpers/oracle.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signUrl, withoutSignature } from '../helpers/signed-url.js';
import { mapLimit } from '../helpers/concurrency.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');


describe('dicomJson and bulk data (synthetic)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('serves the header as DICOM JSON with working BulkDataURIs, nested ones included', async () => {
    const pixels = new Uint8Array(64).map((_, i) => i);
    const bytes = buildDicom({
      elements: basicElements([
        { tag: '00291010', vr: 'OB', value: new Uint8Array([1, 2, 3, 4]) },
        { tag: '00291020', vr: 'OB', value: new Uint8Array(2000).fill(7) },
        { tag: '00880200', vr: 'SQ', items: [[{ tag: '7FE00010', vr: 'OB', value: new Uint8Array(1500).fill(9) }]] },
      ]),
      pixelData: { native: pixels, vr: 'OW' },
    });
    const up = await uploadFiles(server, [{ name: 'bulk.dcm', bytes }]);
    const id = up.body.data.uploadDicoms[0].file.id;
    const res = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { dicomJson } }`, { id });
    expect(res.body.errors).toBeUndefined();
    const json = res.body.data.dicomFile.dicomJson;
    expect(json['00100010']).toEqual({ vr: 'PN', Value: [{ Alphabetic: 'Doe^John' }] });
    expect(json['00291010']).toEqual({ vr: 'OB', InlineBinary: 'AQIDBA==' });
    const base = `${server.url}/files/${Buffer.from(id, 'base64').toString().split(':')[1]}/bulkdata`;
    const unsigned = (e: { vr: string; BulkDataURI: string }) => ({ vr: e.vr, BulkDataURI: withoutSignature(e.BulkDataURI) });
    expect(unsigned(json['00291020'])).toEqual({ vr: 'OB', BulkDataURI: `${base}/00291020` });
    expect(unsigned(json['00880200'].Value[0]['7FE00010'])).toEqual({ vr: 'OB', BulkDataURI: `${base}/00880200/0/7FE00010` });
    expect(unsigned(json['7FE00010'])).toEqual({ vr: 'OW', BulkDataURI: `${base}/7FE00010` });
    expect(Object.keys(json['7FE00010'])).toEqual(['vr', 'BulkDataURI']);

    const fetchBytes = async (url: string) => {
      const r = await fetch(url);
      expect(r.status, url).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/octet-stream');
      return Buffer.from(await r.arrayBuffer());
    };
    expect(await fetchBytes(json['00291020'].BulkDataURI)).toEqual(Buffer.alloc(2000, 7));
    expect(await fetchBytes(json['00880200'].Value[0]['7FE00010'].BulkDataURI)).toEqual(Buffer.alloc(1500, 9));
    expect(await fetchBytes(json['7FE00010'].BulkDataURI)).toEqual(Buffer.from(pixels));

    for (const path of ['00100010', '00880200/1/7FE00010', '00991000', '00880200']) {
      const r = await fetch(signUrl(server, `${base}/${path}`));
      expect(r.status, path).toBe(404);
      expect((await r.json()).error.code).toBe('NOT_FOUND');
    }
  });
});

const corpus = corpusOrSkip('e2e dicomJson');

describe.runIf(corpus)('dicomJson of the corpus', () => {
  let server: TestServer;
  const ids = new Map<string, string>(); // path → global id
  const files = corpus?.manifest.files ?? [];
  const tags = Object.keys(corpus?.manifest.attributeTags ?? {});

  beforeAll(async () => {
    server = await startTestServer();
    for (let i = 0; i < files.length; i += 40) {
      const batch = files.slice(i, i + 40);
      const res = await uploadFiles(server, batch.map((f) => ({ name: f.path, bytes: corpus!.read(f.path) })));
      expect(res.body.errors).toBeUndefined();
      res.body.data.uploadDicoms.forEach((r: { __typename: string; file: { id: string } }, j: number) => {
        expect(r.__typename).toBe('UploadDicomSuccess');
        ids.set(batch[j]!.path, r.file.id);
      });
    }
  });
  afterAll(() => server.stop());

  it('matches the manifest for its 14 tags in every file', async () => {
    const mismatches: string[] = [];
    let compared = 0;
    await mapLimit(files, 8, async (f) => {
      const res = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { dicomJson } }`, { id: ids.get(f.path) });
      expect(res.body.errors, f.path).toBeUndefined();
      const json = res.body.data.dicomFile.dicomJson as Record<string, ManifestElement>;
      for (const tag of tags) {
        compared++;
        const c = compareElement(json[tag] ?? null, f.attributes[tag]);
        if (!c.ok) mismatches.push(`${f.path} ${tag}: got ${c.got}, expected ${c.expected}`);
      }
    });
    expect(compared).toBe(files.length * tags.length);
    expect(mismatches).toEqual([]);
  });

  it("serves every file's Pixel Data as its value bytes, little endian", async () => {
    const withPixels = files.filter((f) => f.hasPixelData);
    expect(withPixels.length).toBeGreaterThan(50);
    const failures: string[] = [];
    await mapLimit(withPixels, 8, async (f) => {
      const res = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { dicomJson } }`, { id: ids.get(f.path) });
      const uri = res.body.data.dicomFile.dicomJson['7FE00010']?.BulkDataURI;
      if (!uri) return failures.push(`${f.path}: no BulkDataURI`);
      const got = await fetch(uri);
      const body = new Uint8Array(await got.arrayBuffer());
      // expected: the value bytes in data-set space, from the file's own structure
      const source = new BufferByteSource(corpus!.read(f.path));
      const s = scanDicom(source);
      const px = s.pixelData!;
      const span = px.length ?? (() => {
        const last = px.fragments?.at(-1);
        const end = last ? last.offset + last.length : px.valueOffset + 8 + 4 * (px.offsetTable?.length ?? 0);
        return end + 8 - px.valueOffset;
      })();
      const raw = datasetSource(source, s).read(px.valueOffset, span);
      const expected = px.length !== null ? littleEndianBytes(raw, px.vr, s.transferSyntax.littleEndian) : raw;
      if (got.status !== 200 || sha(body) !== sha(expected)) failures.push(`${f.path}: status ${got.status}, ${body.length} bytes, expected ${expected.length}`);
      return undefined;
    });
    expect(failures).toEqual([]);
  });
});
