/**
 * Serving rendered images over real HTTP: pngUrl arguments (maxSize thumbnails, 16-bit output),
 * validation at both edges, ETag / Cache-Control / 304, the PNG cache, and the worker pool (the
 * event loop stays free while renders run; a render past RENDER_TIMEOUT_MS is stopped).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENDERER_REVISION } from '../../src/dicom/render.js';
import { workerEntry } from '../../src/workers/timed-worker-pool.js';
import { basicElements, buildDicom } from '../helpers/dicom-builder.js';
import { imagePixelElements, syntheticImage } from '../helpers/fixtures.js';
import { decodePng } from '../helpers/psnr.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signUrl } from '../helpers/signed-url.js';

async function upload(server: TestServer, bytes: Uint8Array): Promise<{ id: string; sha256: string; routeId: string }> {
  const res = await server.upload({ name: 'x.dcm', bytes });
  const result = res.body.data?.uploadDicom;
  expect(result?.__typename, JSON.stringify(res.body)).toBe('UploadDicomSuccess');
  const { id, sha256 } = result.file as { id: string; sha256: string };
  return { id, sha256, routeId: Buffer.from(id, 'base64').toString().split(':')[1]! };
}

async function pngUrl(server: TestServer, id: string, args = ''): Promise<string> {
  const res = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl${args ? `(${args})` : ''} } }`, { id });
  expect(res.body.errors, JSON.stringify(res.body.errors)).toBeUndefined();
  return res.body.data.dicomFile.pngUrl as string;
}

async function getPng(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  const body = Buffer.from(await res.arrayBuffer());
  return { res, body, png: res.status === 200 ? decodePng(body) : undefined };
}

const gray = (png: ReturnType<typeof decodePng>) => Array.from({ length: png.width * png.height }, (_, i) => png.data[i * 4]!);

/** A rows × columns 16-bit image of pseudo-random values (PNG-incompressible, so slow to encode). */
function noiseImage(rows: number, columns: number, sopInstanceUid: string): Buffer {
  const values = new Int16Array(rows * columns);
  for (let i = 0; i < values.length; i++) values[i] = (((i * 1103515245 + 12345) >>> 8) % 4096) - 1000;
  return buildDicom({
    meta: { sopInstanceUid },
    elements: basicElements(imagePixelElements({ rows, columns, bitsAllocated: 16, signed: true })).map((e) => (e.tag === '00080018' ? { ...e, value: sopInstanceUid } : e)),
    pixelData: { native: new Uint8Array(values.buffer), vr: 'OW' },
  });
}

function rgbImage(rows: number, columns: number): Buffer {
  const px = new Uint8Array(rows * columns * 3).map((_, i) => (i % 3 === 0 ? 200 : i % 3 === 1 ? 100 : 50));
  return buildDicom({
    elements: basicElements(imagePixelElements({ rows, columns, samplesPerPixel: 3 })).map((e) => (e.tag === '00080018' ? { ...e, value: '1.2.5.900' } : e)),
    pixelData: { native: px, vr: 'OB' },
  });
}

describe('pngUrl arguments and the image route', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('maxSize fits a thumbnail keeping the aspect ratio (shorter side rounded), never enlarging', async () => {
    // 300 columns × 100 rows, a left-to-right ramp
    const wide = await upload(server, syntheticImage({ rows: 100, columns: 300, values: Array.from({ length: 30_000 }, (_, i) => (i % 300) * 10), sopInstanceUid: '1.2.5.1' }));
    const url = await pngUrl(server, wide.id, 'maxSize: 64');
    expect(url).toContain('maxSize=64');
    const thumb = (await getPng(url)).png!;
    expect([thumb.width, thumb.height]).toEqual([64, 21]); // 100 × 64 / 300 = 21.33
    const row = gray(thumb).slice(0, 64);
    for (let i = 1; i < 64; i++) expect(row[i]!).toBeGreaterThanOrEqual(row[i - 1]!);
    expect(row[0]!).toBeLessThan(10);
    expect(row[63]!).toBeGreaterThan(245);

    const tall = await upload(server, syntheticImage({ rows: 300, columns: 100, sopInstanceUid: '1.2.5.2' }));
    const tallThumb = (await getPng(await pngUrl(server, tall.id, 'maxSize: 64'))).png!;
    expect([tallThumb.width, tallThumb.height]).toEqual([21, 64]);

    // A maxSize the image already fits in is the full image: same URL, no upscaling.
    const full = await pngUrl(server, wide.id);
    expect(await pngUrl(server, wide.id, 'maxSize: 300')).toBe(full);
    expect(await pngUrl(server, wide.id, 'maxSize: 5000')).toBe(full);
    const big = (await getPng(signUrl(server, `${full}&maxSize=1000`))).png!;
    expect([big.width, big.height]).toEqual([300, 100]);
  });

  it('bitDepth 16 gives a 16-bit gray PNG: the window spans 0..65535 with > 256 levels of a ramp', async () => {
    // values −1000, −996, … 2996 in every row; window 1000/2000 covers 0..1999 (PS3.3 C.11.2.1.2.1)
    const values = Array.from({ length: 4 * 1000 }, (_, i) => (i % 1000) * 4 - 1000);
    const img = await upload(server, syntheticImage({ rows: 4, columns: 1000, values, sopInstanceUid: '1.2.5.3' }));
    const url16 = await pngUrl(server, img.id, 'bitDepth: 16, window: { center: 1000, width: 2000 }');
    expect(url16).toContain('bitDepth=16');
    const png16 = (await getPng(url16)).png!;
    expect([png16.colorType, png16.depth, png16.width, png16.height]).toEqual([0, 16, 1000, 4]);
    const v16 = gray(png16).slice(0, 1000);
    expect(new Set(v16).size).toBeGreaterThan(256);
    expect(v16[0]).toBe(0); // −1000
    expect(v16[250]).toBe(0); // 0 ≤ c − 0.5 − (w − 1)/2 = 0
    expect(v16[251]).toBe(Math.trunc(((4 - 999.5) / 1999 + 0.5) * 65535));
    expect(v16[750]).toBe(65535); // 2000 > 1999
    expect(v16[999]).toBe(65535);
    for (let i = 1; i < 1000; i++) expect(v16[i]!).toBeGreaterThanOrEqual(v16[i - 1]!);

    const png8 = (await getPng(await pngUrl(server, img.id, 'window: { center: 1000, width: 2000 }'))).png!;
    expect(png8.depth).toBe(8);
    const v8 = gray(png8).slice(0, 1000);
    expect(new Set(v8).size).toBeLessThanOrEqual(256);
    v16.forEach((v, i) => expect(Math.abs(v / 257 - v8[i]!)).toBeLessThanOrEqual(1)); // same formula, finer steps

    // 16-bit thumbnails stay 16-bit
    const thumb = (await getPng(await pngUrl(server, img.id, 'bitDepth: 16, maxSize: 100'))).png!;
    expect([thumb.depth, thumb.width, thumb.height]).toEqual([16, 100, 1]); // 4 × 100 / 1000 = 0.4 → at least 1
  });

  it('colour images stay 8-bit RGB with bitDepth 16', async () => {
    const img = await upload(server, rgbImage(6, 9));
    const png = (await getPng(await pngUrl(server, img.id, 'bitDepth: 16'))).png!;
    expect([png.colorType, png.depth, png.width, png.height]).toEqual([2, 8, 9, 6]);
    expect([png.data[0], png.data[1], png.data[2]]).toEqual([200, 100, 50]);
    const thumb = (await getPng(await pngUrl(server, img.id, 'maxSize: 3'))).png!;
    expect([thumb.width, thumb.height, thumb.data[0], thumb.data[1], thumb.data[2]]).toEqual([3, 2, 200, 100, 50]);
  });

  it('rejects bad maxSize / bitDepth with INVALID_ARGUMENT in GraphQL and 400 in the route', async () => {
    const img = await upload(server, syntheticImage({ sopInstanceUid: '1.2.5.4' }));
    for (const args of ['maxSize: 0', 'maxSize: -3', 'maxSize: 65536', 'bitDepth: 12', 'bitDepth: 0', 'frame: 0']) {
      const res = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { pngUrl(${args}) } }`, { id: img.id });
      expect(res.body.errors?.[0]?.extensions?.code, args).toBe('INVALID_ARGUMENT');
      expect(res.body.errors?.[0]?.message, args).toMatch(/maxSize|bitDepth|frame/);
    }
    const base = `${server.url}/files/${img.routeId}/frames/1.png`;
    for (const q of ['maxSize=0', 'maxSize=abc', 'maxSize=70000', 'maxSize=1.5', 'maxSize=', 'bitDepth=12', 'bitDepth=x', 'v=NOT-HEX', 'center=1&width=abc']) {
      const res = await fetch(signUrl(server, `${base}?${q}`));
      expect(res.status, q).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(((await res.json()) as { error: { code: string } }).error.code, q).toBe('INVALID_ARGUMENT');
    }
  });

  it('versioned URLs are immutable, unversioned ones short-lived; strong ETags per parameter set; 304', async () => {
    const img = await upload(server, syntheticImage({ sopInstanceUid: '1.2.5.5' }));
    const url = await pngUrl(server, img.id);
    expect(new URL(url).searchParams.get('v')).toBe(`${img.sha256.slice(0, 16)}r${RENDERER_REVISION}`);
    const first = await getPng(url);
    // Immutable, but only for as long as the signed URL lives (default 1 h, plus at most 15 min of bucketing).
    const immutable = (res: Response) => {
      const m = /^private, max-age=(\d+), immutable$/.exec(res.headers.get('cache-control') ?? '');
      expect(m, res.headers.get('cache-control') ?? 'no cache-control').not.toBeNull();
      const maxAge = Number(m![1]);
      expect(maxAge).toBeLessThanOrEqual(Number(new URL(url).searchParams.get('exp')) - Math.floor(Date.now() / 1000) + 1);
      expect(maxAge).toBeGreaterThan(3500);
    };
    immutable(first.res);
    const etag = first.res.headers.get('etag')!;
    expect(etag).toBe(`"${img.sha256.slice(0, 32)}-r${RENDERER_REVISION}-1"`);

    const again = await fetch(url, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    immutable(again);
    expect((await again.arrayBuffer()).byteLength).toBe(0);

    const unversioned = await getPng(signUrl(server, `/files/${img.routeId}/frames/1.png`));
    expect(unversioned.res.headers.get('cache-control')).toBe('private, max-age=60');
    expect(unversioned.res.headers.get('etag')).toBe(etag); // same rendering, same validator
    expect(unversioned.body.equals(first.body)).toBe(true);

    const other = signUrl(server, `/files/${img.routeId}/frames/1.png?v=${'0'.repeat(16)}`);
    expect((await fetch(other)).status).toBe(404);
    // A URL from an older pipeline revision still answers, but is no longer immutable.
    const stale = await getPng(signUrl(server, `/files/${img.routeId}/frames/1.png?v=${img.sha256.slice(0, 16)}r0`));
    expect(stale.res.headers.get('cache-control')).toBe('private, max-age=60');
    expect(stale.body.equals(first.body)).toBe(true);

    const etags = new Set<string>([etag]);
    for (const args of ['maxSize: 2', 'bitDepth: 16', 'window: { center: 1, width: 2 }', 'maxSize: 2, bitDepth: 16']) {
      const res = await fetch(await pngUrl(server, img.id, args));
      expect(res.status).toBe(200);
      etags.add(res.headers.get('etag')!);
    }
    expect(etags.size).toBe(5);

    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(first.body.length);
  });

  it('serves a repeated request from the PNG cache, and shares one render between concurrent requests', async () => {
    const img = await upload(server, syntheticImage({ rows: 64, columns: 64, sopInstanceUid: '1.2.5.6' }));
    const url = await pngUrl(server, img.id, 'maxSize: 32');
    const before = server.app.renderStats();
    const first = await getPng(url);
    const afterFirst = server.app.renderStats();
    expect(afterFirst.pool.renders).toBe(before.pool.renders + 1);
    expect(afterFirst.cache.misses).toBe(before.cache.misses + 1);
    const second = await getPng(url);
    const afterSecond = server.app.renderStats();
    expect(second.body.equals(first.body)).toBe(true);
    expect(afterSecond.pool.renders).toBe(afterFirst.pool.renders); // no new render
    expect(afterSecond.cache.hits).toBe(afterFirst.cache.hits + 1);
    expect(afterSecond.cache.bytes).toBeGreaterThanOrEqual(first.body.length);

    const concurrent = await pngUrl(server, img.id, 'maxSize: 16');
    const bodies = await Promise.all([1, 2, 3, 4].map(() => getPng(concurrent)));
    for (const b of bodies) expect(b.res.status).toBe(200);
    const afterBurst = server.app.renderStats();
    expect(afterBurst.pool.renders).toBe(afterSecond.pool.renders + 1);
    expect(afterBurst.cache.shared + afterBurst.cache.hits).toBe(afterSecond.cache.shared + afterSecond.cache.hits + 3);
  });
});

describe('the render worker pool', () => {
  it('loads the compiled worker beside the compiled pool, and the TypeScript one through tsx from sources', () => {
    expect(workerEntry('file:///srv/app/dist/render/render-pool.js', 'render-worker')).toEqual({ filename: '/srv/app/dist/render/render-worker.js' });
    const dev = workerEntry(new URL('../../src/render/render-pool.ts', import.meta.url).href, 'render-worker');
    expect(dev.filename).toMatch(/src\/render\/render-worker\.ts$/);
    expect(dev.execArgv).toEqual(['--import', expect.stringMatching(/^file:.*\/tsx\/.*\.mjs$/)]);
  });

  it('keeps the event loop free: attribute queries answer quickly while slow renders run', async () => {
    const server = await startTestServer({ RENDER_WORKERS: '1' });
    try {
      const img = await upload(server, noiseImage(4096, 4096, '1.2.5.10'));
      const attr = `query ($id: ID!) { dicomFile(id: $id) { attribute(tag: "PatientName") { text } } }`;
      expect((await server.gql(attr, { id: img.id })).body.data.dicomFile.attribute.text).toBe('Doe^John'); // header cached

      // Full-resolution decode, LUTs and area resize of 16.8 M pixels per render, but small responses
      // (the test client shares this process's event loop: it must not decode big PNGs itself).
      const n = 6;
      const urls = await Promise.all(Array.from({ length: n }, (_, k) => pngUrl(server, img.id, `bitDepth: 16, maxSize: 256, window: { center: ${k}, width: 1000 }`)));
      const started = performance.now();
      let rendering = true;
      const renders = Promise.all(urls.map((u) => fetch(u).then(async (r) => ({ status: r.status, bytes: (await r.arrayBuffer()).byteLength })))).finally(
        () => (rendering = false),
      );
      const latencies: number[] = [];
      while (rendering) {
        const t = performance.now();
        const res = await server.gql(attr, { id: img.id });
        latencies.push(performance.now() - t);
        expect(res.body.data.dicomFile.attribute.text).toBe('Doe^John');
        await new Promise((r) => setTimeout(r, 10));
      }
      const results = await renders;
      const renderMs = performance.now() - started;
      for (const r of results) expect(r).toMatchObject({ status: 200 });
      expect(server.app.renderStats().pool).toMatchObject({ workers: 1, renders: n });
      const sorted = [...latencies].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      const p90 = sorted[Math.floor(sorted.length * 0.9)]!;
      const perRender = renderMs / n;
      console.log(
        `${n} renders of 4096² in ${renderMs.toFixed(0)} ms (one worker); ${latencies.length} attribute queries meanwhile: median ${median.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`,
      );
      // Rendering on the event loop would hold every query for about one whole render: about one
      // answer per render, each waiting ~perRender. Off the loop, queries answer many times meanwhile.
      expect(perRender).toBeGreaterThan(80);
      expect(latencies.length).toBeGreaterThan(3 * n);
      expect(median).toBeLessThan(Math.min(50, perRender / 4));
      expect(p90).toBeLessThan(perRender / 2);
    } finally {
      await server.stop();
    }
  });

  it('starts no render worker before the first image (a server that only takes uploads keeps that memory)', async () => {
    const server = await startTestServer({ RENDER_WORKERS: '2' });
    try {
      const img = await upload(server, syntheticImage({ sopInstanceUid: '1.2.5.21' }));
      expect(server.app.renderStats().pool.workers).toBe(0);
      expect((await fetch(await pngUrl(server, img.id))).status).toBe(200);
      expect(server.app.renderStats().pool.workers).toBe(1);
    } finally {
      await server.stop();
    }
  });

  it('stops a render past RENDER_TIMEOUT_MS with 503 RENDER_TIMEOUT, and keeps serving', async () => {
    const server = await startTestServer({ RENDER_WORKERS: '1', RENDER_TIMEOUT_MS: '200' });
    try {
      const slow = await upload(server, noiseImage(3072, 3072, '1.2.5.11'));
      const res = await fetch(await pngUrl(server, slow.id, 'bitDepth: 16'));
      expect(res.status).toBe(503);
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = (await res.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('RENDER_TIMEOUT');
      expect(body.error.message).toContain('200 ms');
      expect(server.app.renderStats().pool.timeouts).toBe(1);

      // The terminated worker is replaced: a small image renders, and queries answer.
      const small = await upload(server, syntheticImage({ sopInstanceUid: '1.2.5.12' }));
      expect((await fetch(await pngUrl(server, small.id))).status).toBe(200);
      const q = await server.gql(`query ($id: ID!) { dicomFile(id: $id) { rows } }`, { id: slow.id });
      expect(q.body.data.dicomFile.rows).toBe(3072);
    } finally {
      await server.stop();
    }
  });
});
