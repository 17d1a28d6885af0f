/**
 * Crash safety (README "Crash safety"): the real entry point uploads over several connections
 * and is killed with SIGKILL mid-stream, then restarted on the same DATA_DIR, a few times over.
 * Every acknowledged upload must be there with its sha256 and bytes; no temp file, orphan blob
 * or row without blob may remain; the catalog must be consistent. Asserts invariants only
 * (never that a kill interrupted something), so the timing of the kills does not matter.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CatalogMaintenance } from '../../src/storage/catalog.js';
import { openDatabase } from '../../src/storage/db.js';
import { syntheticImage } from '../helpers/fixtures.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'dicomql-crash-'));
/** The servers' TMPDIR: uploads must not be spooled here (main.ts spools them into DATA_DIR/spool). */
const osTmp = mkdtempSync(join(tmpdir(), 'dicomql-crash-tmp-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(osTmp, { recursive: true, force: true });
});

const CYCLES = 3;
const LOOPS = 4;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const LARGE = 1024; // 1024 × 1024 × 16 bit: 2 MiB, large enough for kills to land mid-stream
const largeValues = Array.from({ length: LARGE * LARGE }, (_, i) => (i % 3000) * 10 - 50);

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<void>;
  output(): string;
}

async function startServer(): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, TMPDIR: osTmp, HOST: '127.0.0.1', PORT: '0', RENDER_WORKERS: '1', RATE_LIMIT_PER_MINUTE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  let url: string | undefined;
  while (!url && Date.now() < deadline && child.exitCode === null) {
    url = /on (http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(output)?.[1];
    if (!url) await new Promise((r) => setTimeout(r, 25));
  }
  if (!url) throw new Error(`server did not start:\n${output}`);
  return { child, url, exited, output: () => output };
}

async function gql(url: string, query: string): Promise<any> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query }),
  });
  return res.json();
}

const UPLOAD = `mutation Upload($file: Upload!) {
  uploadDicom(file: $file) { __typename ... on UploadDicomSuccess { file { id sha256 } } }
}`;

/** Uploads one file; the (id, sha256) when the server acknowledged it, undefined otherwise. */
async function upload(url: string, bytes: Buffer, name: string): Promise<{ id: string; sha256: string } | undefined> {
  const form = new FormData();
  form.append('operations', JSON.stringify({ query: UPLOAD, variables: { file: null } }));
  form.append('map', JSON.stringify({ 0: ['variables.file'] }));
  form.append('0', new Blob([new Uint8Array(bytes)]), name);
  try {
    const res = await fetch(`${url}/graphql`, { method: 'POST', body: form, headers: { 'apollo-require-preflight': 'true' } });
    const body = (await res.json()) as any;
    const result = body?.data?.uploadDicom;
    return result?.__typename === 'UploadDicomSuccess' ? result.file : undefined;
  } catch {
    return undefined; // the connection died with the server: not acknowledged
  }
}

/** What the startup check logged (README: one line, counts only), or undefined when it found nothing. */
function repairLog(output: string): Record<string, unknown> | undefined {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { msg?: string; repair?: Record<string, unknown> };
      if (entry.msg === 'startup check repaired the data directory') return entry.repair;
    } catch {
      // not a log line
    }
  }
  return undefined;
}

describe('crash safety', () => {
  it('keeps every acknowledged upload across SIGKILLs mid-upload, and leaves no orphan behind', async () => {
    const acknowledged = new Map<string, { sha256: string; sha: string }>(); // id → sha256 the server answered, sha256 of the bytes sent (an answer received after the kill counts too)
    let attempted = 0;
    const repairs: (Record<string, unknown> | undefined)[] = [];

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const server = await startServer();
      repairs.push(repairLog(server.output()));
      let stop = false;
      let ackedThisCycle = 0;
      const loops = Array.from({ length: LOOPS }, async (_, loop) => {
        for (let n = 0; !stop; n++) {
          const uid = `1.2.826.0.1.3680043.10.999.${cycle}.${loop}.${n}`;
          const bytes =
            n % 3 === 2
              ? syntheticImage({ rows: LARGE, columns: LARGE, values: largeValues, sopInstanceUid: uid })
              : syntheticImage({ rows: 16, columns: 16, sopInstanceUid: uid, patientName: `CRASH^${loop}` });
          attempted += 1;
          const ack = await upload(server.url, bytes, `${uid}.dcm`);
          if (ack) {
            ackedThisCycle += 1;
            acknowledged.set(ack.id, { sha256: ack.sha256, sha: sha256(bytes) });
          }
        }
      });
      // Kill once some uploads are acknowledged in this cycle (uploads of every size still in flight).
      const deadline = Date.now() + 10_000;
      while (ackedThisCycle < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 150 + 100 * cycle));
      server.child.kill('SIGKILL');
      await server.exited;
      stop = true;
      await Promise.all(loops);
    }

    // Restart: everything acknowledged is there, with its bytes.
    const server = await startServer();
    repairs.push(repairLog(server.output()));
    const ids = [...acknowledged.keys()];
    expect(ids.length).toBeGreaterThanOrEqual(CYCLES * 6);
    for (let i = 0; i < ids.length; i += 50) {
      const chunk = ids.slice(i, i + 50);
      const query = `{ ${chunk.map((id, k) => `f${k}: dicomFile(id: ${JSON.stringify(id)}) { id sha256 }`).join(' ')} }`;
      const body = await gql(server.url, query);
      expect(body.errors).toBeUndefined();
      chunk.forEach((id, k) => {
        const expected = acknowledged.get(id)!;
        expect(expected.sha256).toBe(expected.sha);
        expect(body.data[`f${k}`], `acknowledged upload ${id}`).toEqual({ id, sha256: expected.sha });
      });
    }
    const sample = ids.filter((_, i) => i % Math.max(1, Math.floor(ids.length / 8)) === 0);
    for (const id of sample) {
      const body = await gql(server.url, `{ dicomFile(id: ${JSON.stringify(id)}) { downloadUrl } }`);
      const res = await fetch(body.data.dicomFile.downloadUrl as string);
      expect(res.status).toBe(200);
      expect(sha256(new Uint8Array(await res.arrayBuffer()))).toBe(acknowledged.get(id)!.sha);
    }
    server.child.kill('SIGTERM');
    await server.exited;

    // The data directory as the startup check left it: nothing in tmp, blobs and rows match one to one.
    expect(readdirSync(join(dataDir, 'tmp'))).toEqual([]);
    // Uploads cut off by the kills were spooled into DATA_DIR/spool (emptied by each startup), none in TMPDIR.
    expect(readdirSync(join(dataDir, 'spool'))).toEqual([]);
    expect(readdirSync(osTmp).filter((n) => n.startsWith('capacitor-'))).toEqual([]);
    const blobs = new Set<string>();
    for (const a of readdirSync(join(dataDir, 'blobs'))) {
      for (const b of readdirSync(join(dataDir, 'blobs', a))) {
        for (const f of readdirSync(join(dataDir, 'blobs', a, b))) blobs.add(f);
      }
    }
    const database = openDatabase(dataDir);
    try {
      const rows = database.db.$client.prepare('SELECT sha256 FROM dicom_files').pluck().all() as string[];
      const rowSet = new Set(rows);
      expect([...blobs].filter((s) => !rowSet.has(s)), 'blobs without a row').toEqual([]);
      expect(rows.filter((s) => !blobs.has(s)), 'rows without a blob').toEqual([]);
      expect(new CatalogMaintenance(database.db).checkConsistency()).toEqual([]);
      for (const { sha256: s } of acknowledged.values()) expect(existsSync(join(dataDir, 'blobs', s.slice(0, 2), s.slice(2, 4), s))).toBe(true);
      // Figures for the record (visible with --reporter=verbose or on failure).
      console.log(
        `[crash test] ${attempted} uploads attempted, ${acknowledged.size} acknowledged, ${rows.length} rows, ${CYCLES} kills; startup repairs:`,
        JSON.stringify(repairs),
      );
    } finally {
      database.close();
    }
  }, 60_000);
});
