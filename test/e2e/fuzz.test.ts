/**
 * Fuzzing over real HTTP: mutated files (bit flips, truncations at element starts, huge and odd
 * lengths, wrong VRs, deep nesting, bad transfer syntax UIDs, spliced chunks) made from corpus
 * files (else synthetic fixtures) with a seeded PRNG, uploaded one by one; when accepted, their
 * attributes, DICOM JSON and PNG are asked for. The server must stay up, every answer must be a
 * success or a typed error (never INTERNAL_SERVER_ERROR, a 500 or a dropped connection), p99 under
 * 2 s, and a rejected upload must store nothing.
 *
 * CI runs FUZZ_COUNT (default 150); `npm run fuzz` runs 2,000. FUZZ_SEED picks another sequence.
 * A failure prints the case's seed index and mutation, so it can be reproduced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedCounts } from '../helpers/crafted.js';
import { basicElements, buildDicom, DEFLATED_LE, EXPLICIT_BE, IMPLICIT_LE, RLE_LOSSLESS } from '../helpers/dicom-builder.js';
import { findCorpus } from '../helpers/corpus.js';
import { syntheticImage } from '../helpers/fixtures.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { prng } from '../helpers/prng.js';

// The test file is the only place that reads these (the server's settings come from src/config.ts).
const COUNT = Number(process.env.FUZZ_COUNT ?? 150);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const MAX_SEED_BYTES = 600 * 1024;


const VRS = ['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'PN', 'SH', 'SL', 'SQ', 'SS', 'ST', 'SV', 'TM', 'UC', 'UI', 'UL', 'UN', 'UR', 'US', 'UT', 'UV'];
const LONG = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

/** Offsets that look like element starts (explicit VR headers, items and delimiters): the structural boundaries. */
function elementStarts(b: Buffer): number[] {
  const starts: number[] = [];
  for (let i = 0; i + 8 <= b.length; i += 2) {
    const group = b.readUInt16LE(i);
    const groupBe = b.readUInt16BE(i);
    const vr = b.toString('latin1', i + 4, i + 6);
    if ((group === 0xfffe || groupBe === 0xfffe) && (b[i + 2] === 0x00 || b[i + 3] === 0x00 || b[i + 2] === 0xe0 || b[i + 3] === 0xe0)) starts.push(i);
    else if (VRS.includes(vr) && ((group % 2 === 0 && group > 0 && group <= 0x7fe0) || (groupBe % 2 === 0 && groupBe > 0 && groupBe <= 0x7fe0))) starts.push(i);
  }
  return starts;
}

interface Seed {
  readonly name: string;
  readonly bytes: Buffer;
  readonly starts: number[];
}

function seeds(): Seed[] {
  const corpus = findCorpus();
  const list: { name: string; bytes: Buffer }[] = [];
  if (corpus) {
    for (const f of corpus.manifest.files) {
      if ((f as { size?: number }).size !== undefined && (f as { size: number }).size > MAX_SEED_BYTES) continue;
      const bytes = corpus.read(f.path);
      if (bytes.length <= MAX_SEED_BYTES) list.push({ name: f.path, bytes });
    }
  }
  // Synthetic fixtures always take part: every transfer syntax family and a sequence.
  list.push(
    { name: 'synthetic/explicit-le', bytes: syntheticImage({ rows: 16, columns: 16 }) },
    { name: 'synthetic/implicit-le', bytes: syntheticImage({ rows: 8, columns: 8, transferSyntax: IMPLICIT_LE }) },
    { name: 'synthetic/explicit-be', bytes: syntheticImage({ rows: 8, columns: 8, transferSyntax: EXPLICIT_BE }) },
    { name: 'synthetic/deflated', bytes: syntheticImage({ rows: 8, columns: 8, transferSyntax: DEFLATED_LE }) },
    { name: 'synthetic/multi-frame', bytes: syntheticImage({ rows: 8, columns: 8, frames: 3 }) },
    {
      name: 'synthetic/sequence',
      bytes: buildDicom({
        elements: basicElements([
          { tag: '00081140', vr: 'SQ', undefinedLength: true, itemUndefinedLength: true, items: [[{ tag: '00081155', vr: 'UI', value: '1.2.3' }], [{ tag: '00081150', vr: 'UI', value: '1.2.4' }]] },
        ]),
      }),
    },
    {
      name: 'synthetic/rle-encapsulated',
      bytes: buildDicom({ transferSyntax: RLE_LOSSLESS, elements: basicElements(), pixelData: { fragments: [new Uint8Array(64).fill(1)] } }),
    },
  );
  return list.map((s) => ({ ...s, starts: elementStarts(s.bytes) }));
}

type Mutation = (b: Buffer, s: Seed, r: () => number) => { bytes: Buffer; what: string };

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const boundary = (s: Seed, r: () => number) => (s.starts.length ? pick(r, s.starts) : Math.floor(r() * s.bytes.length));

const MUTATIONS: readonly Mutation[] = [
  function bitFlips(b, _s, r) {
    const out = Buffer.from(b);
    const n = 1 + Math.floor(r() * 16);
    for (let i = 0; i < n; i++) out[Math.floor(r() * out.length)]! ^= 1 << Math.floor(r() * 8);
    return { bytes: out, what: `${n} bit flips` };
  },
  function headerBitFlips(b, _s, r) {
    // The header region matters most: flip bits in the first 2 KB.
    const out = Buffer.from(b);
    const n = 1 + Math.floor(r() * 8);
    for (let i = 0; i < n; i++) out[Math.floor(r() * Math.min(out.length, 2048))]! ^= 1 << Math.floor(r() * 8);
    return { bytes: out, what: `${n} header bit flips` };
  },
  function truncate(b, s, r) {
    const at = boundary(s, r) + pick(r, [0, 0, 0, 2, 4, 6, 8, 12]);
    return { bytes: b.subarray(0, Math.min(at, b.length - 1)), what: `truncated at ${at}` };
  },
  function hugeOrOddLength(b, s, r) {
    const out = Buffer.from(b);
    const at = boundary(s, r);
    const vr = out.toString('latin1', at + 4, at + 6);
    const value = pick(r, [0xffffffff, 0xfffffffe, 0x7fffffff, 1, 3, 0xffff, out.length, out.length + 1, Math.floor(r() * 2 ** 32)]);
    if (LONG.has(vr) && at + 12 <= out.length) out.writeUInt32LE(value >>> 0, at + 8);
    else if (VRS.includes(vr) && at + 8 <= out.length) out.writeUInt16LE(value & 0xffff, at + 6);
    else if (at + 8 <= out.length) out.writeUInt32LE(value >>> 0, at + 4);
    return { bytes: out, what: `length ${value} at ${at} (${vr})` };
  },
  function wrongVr(b, s, r) {
    const out = Buffer.from(b);
    const at = boundary(s, r);
    const vr = r() < 0.8 ? pick(r, VRS) : String.fromCharCode(Math.floor(r() * 256), Math.floor(r() * 256));
    if (at + 6 <= out.length) out.write(vr, at + 4, 'latin1');
    return { bytes: out, what: `VR ${JSON.stringify(vr)} at ${at}` };
  },
  function deepNesting(b, s, r) {
    const depth = pick(r, [65, 200, 1000, 5000, 20000]);
    const open = Buffer.from([0x40, 0x00, 0x30, 0xa7, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
    const close = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    const closed = r() < 0.5;
    const at = boundary(s, r);
    const nest = Buffer.concat([...Array<Buffer>(depth).fill(open), ...(closed ? Array<Buffer>(depth).fill(close) : [])]);
    return { bytes: Buffer.concat([b.subarray(0, at), nest, b.subarray(at)]), what: `${depth} nested sequences (${closed ? 'closed' : 'open'}) at ${at}` };
  },
  function badTransferSyntax(b, _s, r) {
    const out = Buffer.from(b);
    const at = out.indexOf(Buffer.from([0x02, 0x00, 0x10, 0x00, 0x55, 0x49]));
    if (at < 0) return { bytes: out, what: 'no transfer syntax to replace' };
    const length = out.readUInt16LE(at + 6);
    const uid = pick(r, ['1.2.840.10008.1.2.4.999', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2', '1.2.840.10008.1.2.2', 'garbage', '', '\u0000\u0000']);
    const value = Buffer.alloc(length, 0);
    value.write(uid.slice(0, length), 'latin1');
    value.copy(out, at + 8);
    return { bytes: out, what: `transfer syntax ${JSON.stringify(uid)}` };
  },
  function splice(b, s, r) {
    const from = boundary(s, r);
    const to = boundary(s, r);
    const len = Math.floor(r() * 256);
    return { bytes: Buffer.concat([b.subarray(0, to), b.subarray(from, from + len), b.subarray(to)]), what: `spliced ${len} bytes from ${from} to ${to}` };
  },
];

const UPLOAD = `mutation Upload($file: Upload!) {
  uploadDicom(file: $file) {
    __typename
    ... on UploadDicomSuccess { duplicate file { id } }
    ... on Error { code message }
  }
}`;
const READ = `query ($id: ID!) { dicomFile(id: $id) { attributes { tag vr value text } dicomJson pngUrl } }`;
const TYPED_UPLOAD = new Set(['UploadDicomSuccess', 'InvalidDicomError', 'FileTooLargeError']);
const PNG_STATUSES = new Set([200, 400, 404, 413, 415, 422, 503]);

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : 0;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_PER_MINUTE: '0', RENDER_TIMEOUT_MS: '1900' });
});
afterAll(async () => {
  await server?.stop();
});

describe('fuzzing uploads, attributes and PNGs over HTTP', () => {
  it(`${COUNT} mutated files: typed answers only, the server stays up, p99 < 2 s, nothing stored for a rejected upload`, { timeout: Math.max(60_000, COUNT * 2_000) }, async () => {
    const all = seeds();
    const r = prng(SEED);
    const times: number[] = [];
    const failures: string[] = [];
    const outcomes = new Map<string, number>();
    const timed = async <T>(f: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      try {
        return await f();
      } finally {
        times.push(performance.now() - t);
      }
    };

    for (let i = 0; i < COUNT; i++) {
      const seed = pick(r, all);
      const mutation = pick(r, MUTATIONS);
      const { bytes, what } = mutation(seed.bytes, seed, r);
      const label = `#${i} ${seed.name}: ${mutation.name}: ${what}`;
      const fail = (msg: string) => failures.push(`${label}: ${msg}`);
      try {
        const before = storedCounts(server.dataDir);
        const up = await timed(() => server.upload({ name: `fuzz-${i}.dcm`, bytes }, UPLOAD));
        const result = up.body.data?.uploadDicom;
        if (up.status !== 200 || !result || !TYPED_UPLOAD.has(result.__typename)) {
          fail(`upload answered ${up.status} ${JSON.stringify(up.body).slice(0, 300)}`);
          continue;
        }
        outcomes.set(result.__typename, (outcomes.get(result.__typename) ?? 0) + 1);
        if (result.__typename !== 'UploadDicomSuccess') {
          const after = storedCounts(server.dataDir);
          if (after.rows !== before.rows || after.blobs !== before.blobs) fail(`rejected but stored: ${JSON.stringify({ before, after })}`);
          continue;
        }
        const read = await timed(() => server.gql(READ, { id: result.file.id }));
        const errors = read.body.errors ?? [];
        if (read.status !== 200 || errors.some((e) => (e.extensions?.code ?? 'INTERNAL_SERVER_ERROR') === 'INTERNAL_SERVER_ERROR')) {
          fail(`read answered ${read.status} ${JSON.stringify(read.body).slice(0, 300)}`);
          continue;
        }
        const pngUrl: string | null | undefined = read.body.data?.dicomFile?.pngUrl;
        if (!pngUrl) continue;
        const png = await timed(async () => {
          try {
            const res = await fetch(pngUrl);
            const body = Buffer.from(await res.arrayBuffer());
            return { status: res.status, type: res.headers.get('content-type') ?? '', body };
          } catch (err) {
            return { status: 0, type: '', body: Buffer.from(String(err)) };
          }
        });
        if (!PNG_STATUSES.has(png.status)) fail(`PNG answered ${png.status} ${png.body.toString('utf8', 0, 300)}`);
        else if (png.status === 200 ? !png.type.startsWith('image/png') : !png.type.includes('json')) fail(`PNG ${png.status} with content type ${png.type}`);
        outcomes.set(`png ${png.status}`, (outcomes.get(`png ${png.status}`) ?? 0) + 1);
      } catch (err) {
        fail(`request failed: ${String(err)}`);
      }
      if (i % 50 === 49) {
        const health = await fetch(`${server.url}/healthz`).catch(() => null);
        if (health?.status !== 200) fail(`healthz answered ${health?.status ?? 'nothing'}`);
      }
    }

    const health = await fetch(`${server.url}/healthz`);
    times.sort((a, b) => a - b);
    const p50 = percentile(times, 50);
    const p99 = percentile(times, 99);
    console.log(
      `fuzz: ${COUNT} files (seed ${SEED}, ${all.length} seed files), ${times.length} answers, ${failures.length} failures, ` +
        `p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${(times.at(-1) ?? 0).toFixed(0)} ms; ${JSON.stringify(Object.fromEntries(outcomes))}`,
    );
    for (const f of failures.slice(0, 20)) console.log(`  FAIL ${f}`);
    expect(health.status).toBe(200);
    expect(failures).toEqual([]);
    expect(server.errors.filter((e) => !/aborted|ECONNRESET/i.test(String(e)))).toEqual([]);
    expect(p99).toBeLessThan(2000);
  });
});
