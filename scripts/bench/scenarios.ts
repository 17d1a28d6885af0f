/**
 * The throughput scenarios and their floors: what each measurement sends, prepared against the
 * real server (the CT uploaded, its answers and PNG recorded for the floors, signed image URLs
 * fetched from GraphQL — never built by hand).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import { gql, multipartParts, uploadBytes, uploadedId, uploadHeaders } from './client.js';
import { sopInstanceUidSpans, writeSopInstanceUid } from './fixtures.js';
import type { FloorSpec } from './floors.js';
import { type LoadSpec, rotatingGets } from './load.js';

/** Scenario groups, as named by --only. */
export const SCENARIO_GROUPS = ['attribute', 'png', 'upload', 'growth'] as const;
export type ScenarioGroup = (typeof SCENARIO_GROUPS)[number];

export type Target = 'server' | 'bare' | 'yoga';

/** One load measurement (repeated once per run). */
export interface Measurement {
  readonly key: string;
  readonly group: ScenarioGroup;
  readonly target: Target;
  /** A fresh LoadSpec for one run (cold PNG URLs are fetched anew each time). */
  spec(origin: string, base: BaseSpec): Promise<LoadSpec>;
  /** After the run: a warning, if any (e.g. not enough distinct URLs). */
  afterRun?(): string | undefined;
}

export type BaseSpec = Pick<LoadSpec, 'connections' | 'durationSec'>;

const SELECTION = '{ tag keyword name vr vm value text }';

/** The 14 tags of the "14 tags in one query" scenario (all present in the CT). */
export const FOURTEEN_TAGS = [
  'PatientName',
  'PatientID',
  'StudyDate',
  'Modality',
  'SOPInstanceUID',
  'StudyInstanceUID',
  'SeriesInstanceUID',
  'Rows',
  'Columns',
  'BitsAllocated',
  'PixelRepresentation',
  'PhotometricInterpretation',
  'RescaleIntercept',
  'RescaleSlope',
] as const;

export const ATTRIBUTE_QUERIES = {
  attr1: `query ($id: ID!) { dicomFile(id: $id) { attribute(tag: "PatientID") ${SELECTION} } }`,
  attr14: `query ($id: ID!) { dicomFile(id: $id) { ${FOURTEEN_TAGS.map((t, i) => `a${i}: attribute(tag: "${t}") ${SELECTION}`).join(' ')} } }`,
  attrAll: `query ($id: ID!) { dicomFile(id: $id) { attributes ${SELECTION} } }`,
} as const;
export type AttributeQuery = keyof typeof ATTRIBUTE_QUERIES;

/** What preparation recorded from the real server. */
export interface Prepared {
  readonly ctId: string;
  /** Exact response bodies of the attribute queries (the bare floor's constants). */
  readonly answers: Record<AttributeQuery, string>;
  /** The yoga floor's constants. */
  readonly yoga: Extract<FloorSpec, { kind: 'yoga' }>;
  readonly bare: Extract<FloorSpec, { kind: 'bare' }>;
  /** The warm PNG's ETag. */
  readonly etag: string;
  readonly pngBytes: number;
}

const MAX_ALIASES = 200;
/** Window center of the warm PNG (cold windows start far from it). */
const WARM_CENTER = 40;

/** Fetches `count` signed pngUrl paths of file `id`, window center `firstCenter`, `firstCenter + 1`, … */
export async function pngPaths(url: string, id: string, firstCenter: number, count: number): Promise<string[]> {
  const paths: string[] = [];
  for (let start = 0; start < count; start += MAX_ALIASES) {
    const n = Math.min(MAX_ALIASES, count - start);
    const fields = Array.from({ length: n }, (_, i) => `u${i}: pngUrl(frame: 1, window: { center: ${firstCenter + start + i}, width: 400 })`).join(' ');
    const data = await gql<{ dicomFile: Record<string, string> }>(url, `query ($id: ID!) { dicomFile(id: $id) { ${fields} } }`, { id });
    for (let i = 0; i < n; i++) {
      const u = new URL(data.dicomFile[`u${i}`]!);
      paths.push(u.pathname + u.search);
    }
  }
  return paths;
}

/** Uploads the CT, records the attribute answers and one PNG for the floors. */
export async function prepare(url: string, ct: Buffer, workDir: string): Promise<Prepared> {
  const ctId = uploadedId(await uploadBytes(url, ct, 'ct.dcm'));
  const answers = {} as Record<AttributeQuery, string>;
  for (const [key, query] of Object.entries(ATTRIBUTE_QUERIES) as [AttributeQuery, string][]) {
    const res = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { id: ctId } }) });
    const text = await res.text();
    if (res.status !== 200 || text.includes('"errors"')) throw new Error(`attribute query ${key} failed: HTTP ${res.status} ${text.slice(0, 500)}`);
    answers[key] = text;
  }
  const byTag: Record<string, unknown> = {};
  const one = JSON.parse(answers.attr1).data.dicomFile;
  byTag.PatientID = one.attribute;
  const many = JSON.parse(answers.attr14).data.dicomFile;
  FOURTEEN_TAGS.forEach((t, i) => {
    byTag[t] = many[`a${i}`];
  });
  const all = JSON.parse(answers.attrAll).data.dicomFile.attributes as unknown[];

  const [warmPath] = await pngPaths(url, ctId, WARM_CENTER, 1);
  const png = await fetch(`${url}${warmPath}`);
  const pngBody = Buffer.from(await png.arrayBuffer());
  const etag = png.headers.get('etag');
  if (png.status !== 200 || png.headers.get('content-type') !== 'image/png' || !etag) throw new Error(`PNG ${warmPath}: HTTP ${png.status} ${png.headers.get('content-type')}`);
  const pngFile = join(workDir, 'floor.png');
  writeFileSync(pngFile, pngBody);
  return {
    ctId,
    answers,
    yoga: { kind: 'yoga', byTag, all },
    bare: { kind: 'bare', json: answers, pngFile, etag },
    etag,
    pngBytes: pngBody.length,
  };
}

const okGraphql = (body: string) => body.startsWith('{"data"') && !body.includes('"errors"');

function attributeMeasurement(key: AttributeQuery, target: Target, ctId: string): Measurement {
  const body = JSON.stringify({ query: ATTRIBUTE_QUERIES[key], variables: { id: ctId } });
  const path = target === 'bare' ? `/json/${key}` : '/graphql';
  return {
    key: `${target}.${key}`,
    group: 'attribute',
    target,
    spec: async (origin, base) => ({
      ...base,
      url: origin,
      expectStatus: 200,
      verifyBody: okGraphql,
      requests: [{ method: 'POST', path, headers: { 'content-type': 'application/json', accept: 'application/json' }, body }],
    }),
  };
}

/** A GET of one path, optionally revalidated with If-None-Match. */
function fixedGet(key: string, group: ScenarioGroup, target: Target, path: string, etag?: string): Measurement {
  return {
    key,
    group,
    target,
    spec: async (origin, base) => getSpec(origin, base, path, etag),
  };
}

function getSpec(origin: string, base: BaseSpec, path: string, etag?: string): LoadSpec {
  return {
    ...base,
    url: origin,
    expectStatus: etag ? 304 : 200,
    requests: [{ method: 'GET', path, headers: etag ? { 'if-none-match': etag } : ({} as Record<string, string>) }],
  };
}

/**
 * The warm PNG (the window `prepare` rendered), by a URL fetched from pngUrl for each run: signed
 * URLs may expire, and a full benchmark lasts longer than a few minutes.
 */
function warmPng(key: string, serverUrl: string, ctId: string, etag?: string): Measurement {
  return {
    key,
    group: 'png',
    target: 'server',
    spec: async (origin, base) => getSpec(origin, base, (await pngPaths(serverUrl, ctId, WARM_CENTER, 1))[0]!, etag),
  };
}

/** Cold renders: every request a window never asked for before (distinct signed URLs from pngUrl). */
function coldPng(serverUrl: string, ctId: string, maxRendersPerSec: number): Measurement {
  let nextCenter = 1000;
  let fetched = 0;
  let used: () => number = () => 0;
  return {
    key: 'server.pngCold',
    group: 'png',
    target: 'server',
    spec: async (origin, base) => {
      fetched = Math.ceil(maxRendersPerSec * base.durationSec);
      const paths = await pngPaths(serverUrl, ctId, nextCenter, fetched);
      nextCenter += fetched;
      const rotating = rotatingGets(paths);
      used = rotating.used;
      return { ...base, url: origin, expectStatus: 200, requests: [rotating.request] };
    },
    afterRun: () => (used() > fetched ? `png cold: ${used()} requests for ${fetched} distinct URLs, so some were cache hits (raise maxRendersPerSec)` : undefined),
  };
}

/** Uploads of distinct files: the CT with a new SOP Instance UID (same length) in each request body. */
function uploads(key: string, target: Target, ct: Buffer, counter: { next: number }): Measurement {
  const { head, tail, contentType } = multipartParts('ct.dcm');
  const template = Buffer.concat([head, ct, tail]);
  const spans = sopInstanceUidSpans(ct);
  const request: autocannon.Request = {
    method: 'POST',
    path: target === 'bare' ? '/upload' : '/graphql',
    headers: uploadHeaders(contentType),
    // autocannon copies the body into its request buffer at once, so one template patched in place serves every request.
    setupRequest: (req) => {
      writeSopInstanceUid(template, spans, counter.next++, head.length);
      return { ...req, body: template };
    },
  };
  return {
    key,
    group: 'upload',
    target,
    spec: async (origin, base) => ({
      ...base,
      url: origin,
      expectStatus: 200,
      verifyBody: (body) => body.includes('"UploadDicomSuccess"') && body.includes('"duplicate":false'),
      requests: [request],
    }),
  };
}

export interface Origins {
  readonly server: string;
  readonly bare: string;
  readonly yoga: string;
}

/** Every throughput measurement of the selected groups. */
export function measurements(prepared: Prepared, serverUrl: string, ct: Buffer, groups: ReadonlySet<ScenarioGroup>, maxRendersPerSec = 1500): Measurement[] {
  const list: Measurement[] = [];
  if (groups.has('attribute') || groups.has('png')) {
    // the bare JSON floor is also the reference of the 304 answers
    for (const key of Object.keys(ATTRIBUTE_QUERIES) as AttributeQuery[]) {
      if (!groups.has('attribute') && key !== 'attr1') continue;
      for (const target of groups.has('attribute') ? (['server', 'bare', 'yoga'] as const) : (['bare'] as const)) list.push(attributeMeasurement(key, target, prepared.ctId));
    }
  }
  if (groups.has('png')) {
    list.push(coldPng(serverUrl, prepared.ctId, maxRendersPerSec));
    list.push(warmPng('server.pngWarm', serverUrl, prepared.ctId));
    list.push(warmPng('server.png304', serverUrl, prepared.ctId, prepared.etag));
    list.push(fixedGet('bare.png', 'png', 'bare', '/png'));
    list.push(fixedGet('bare.png304', 'png', 'bare', '/png', prepared.etag));
  }
  if (groups.has('upload')) {
    // one counter: UIDs stay distinct across runs, warm-ups and both targets
    const counter = { next: 1 };
    list.push(uploads('server.upload', 'server', ct, counter));
    list.push(uploads('bare.upload', 'bare', ct, counter));
  }
  return list;
}
