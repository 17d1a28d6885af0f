/** Streamed ZIPs of stored files: exact length up front, entries as stored, safe names. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { instanceName, seriesFolder } from '../../src/http/zip-route.js';
import { safeSegment, UniqueNames, zipStream } from '../../src/storage/zip-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'dicomql-zipw-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('zipStream', () => {
  it('streams stored entries whose bytes equal the files, with the announced length', async () => {
    const a = Buffer.alloc(70_000).map((_, i) => i % 256);
    const b = Buffer.from('second file');
    writeFileSync(join(dir, 'a'), a);
    writeFileSync(join(dir, 'b'), b);
    const mtime = new Date('2024-05-06T07:08:10Z');
    const zip = zipStream([
      { name: 'S/0001_1.dcm', path: join(dir, 'a'), size: a.length, mtime },
      { name: 'S/0002_2.dcm', path: join(dir, 'b'), size: b.length, mtime },
    ]);
    const chunks: Buffer[] = [];
    for await (const c of zip.stream) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    expect(bytes.length).toBe(zip.length);
    const reader = await yauzl.fromBufferPromise(bytes);
    const got: [string, number, Buffer][] = [];
    for await (const e of reader.eachEntry()) {
      const parts: Buffer[] = [];
      for await (const c of await reader.openReadStreamPromise(e)) parts.push(c as Buffer);
      got.push([e.fileName, e.compressionMethod, Buffer.concat(parts)]);
    }
    reader.close();
    expect(got).toEqual([
      ['S/0001_1.dcm', 0, a],
      ['S/0002_2.dcm', 0, b],
    ]);
  });

  it('fails the stream when a file is missing (deleted meanwhile)', async () => {
    const zip = zipStream([{ name: 'x.dcm', path: join(dir, 'missing'), size: 10, mtime: new Date() }]);
    await expect(
      (async () => {
        for await (const _ of zip.stream) void _;
      })(),
    ).rejects.toThrow();
  });
});

describe('entry names', () => {
  it.each([
    ['AX T1', 'AX T1'],
    ['../../etc/passwd', 'etc_passwd'],
    ['a/b\\c:d*e?f"g<h>i|j', 'a_b_c_d_e_f_g_h_i_j'],
    ['  .hidden. ', 'hidden'],
    ['Kopf – Schädel', 'Kopf _ Schädel'],
    ['\u0000\u0007', 'fallback'],
    ['', 'fallback'],
    [null, 'fallback'],
    ['x'.repeat(100), 'x'.repeat(64)],
  ])('safeSegment(%j) = %j', (input, expected) => {
    expect(safeSegment(input, 'fallback')).toBe(expected);
  });

  it('names series folders and instances', () => {
    expect(seriesFolder({ id: 4, seriesNumber: 3, seriesDescription: 'Cor T2' })).toBe('3_Cor T2');
    expect(seriesFolder({ id: 4, seriesNumber: null, seriesDescription: 'Cor T2' })).toBe('Cor T2');
    expect(seriesFolder({ id: 4, seriesNumber: 7, seriesDescription: null })).toBe('7');
    expect(seriesFolder({ id: 4, seriesNumber: null, seriesDescription: '  ' })).toBe('series_4');
    expect(instanceName({ id: 'f', instanceNumber: 12, sopInstanceUid: '1.2.3' })).toBe('0012_1.2.3.dcm');
    expect(instanceName({ id: 'f', instanceNumber: null, sopInstanceUid: '1.2.3' })).toBe('1.2.3.dcm');
    expect(instanceName({ id: 'f-id', instanceNumber: null, sopInstanceUid: null })).toBe('f-id.dcm');
    expect(instanceName({ id: 'f', instanceNumber: -3, sopInstanceUid: '9' })).toBe('-0003_9.dcm');
  });

  it('makes names unique, case-insensitively', () => {
    const names = new UniqueNames();
    expect(['a/x.dcm', 'a/x.dcm', 'A/X.dcm', 'a/y'].map((n) => names.take(n))).toEqual(['a/x.dcm', 'a/x-2.dcm', 'A/X-3.dcm', 'a/y']);
  });
});
