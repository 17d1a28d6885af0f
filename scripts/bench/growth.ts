/**
 * Cost growth, on a fresh server: attribute latency on a ~1 KB file vs a ≥ 200 MB multi-frame
 * file, and the server's peak RSS while one 1 GiB file uploads and while 10 × 100 MB upload at
 * once. The big files are generated frame by frame on disk and streamed into the request bodies.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { uploadBytes, uploadedId, uploadFile } from './client.js';
import { tinyCt, uidOfLength, writeMultiFrameCt } from './fixtures.js';
import { runLoad, type LoadResult } from './load.js';
import { ATTRIBUTE_QUERIES } from './scenarios.js';
import type { ServerProcess } from './server-process.js';
import { median } from './stats.js';

export interface LatencyStats {
  readonly bytes: number;
  readonly reqPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: number;
}

export interface RssPhase {
  readonly label: string;
  readonly uploadedBytes: number;
  readonly seconds: number;
  /** Bytes, before the uploads started. */
  readonly baselineRss: number;
  /** Highest VmRSS sampled every 50 ms (bytes). */
  readonly peakRss: number;
  /** VmHWM after resetting it before the phase (bytes; null when /proc does not allow the reset). */
  readonly hwm: number | null;
}

export interface GrowthResult {
  /** VmRSS of the fresh server before any request (bytes): the floor under every peak. */
  readonly idleRss: number;
  readonly small?: LatencyStats;
  readonly big?: LatencyStats;
  readonly rss: RssPhase[];
}

const FRAME = { rows: 512, columns: 512 };
const FRAME_BYTES = FRAME.rows * FRAME.columns * 2;

/** The p50/p99/req/s medians of `runs` attribute loads (after one warm-up) on file `id`. */
async function attributeLatency(server: ServerProcess, id: string, bytes: number, o: { connections: number; durationSec: number; warmupSec: number; runs: number }): Promise<LatencyStats> {
  const body = JSON.stringify({ query: ATTRIBUTE_QUERIES.attr1, variables: { id } });
  const spec = (durationSec: number) => ({
    url: server.url,
    connections: o.connections,
    durationSec,
    expectStatus: 200,
    verifyBody: (b: string) => b.startsWith('{"data"') && !b.includes('"errors"'),
    requests: [{ method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body }],
  });
  if (o.warmupSec > 0) await runLoad(spec(o.warmupSec));
  const results: LoadResult[] = [];
  for (let r = 0; r < o.runs; r++) results.push(await runLoad(spec(o.durationSec)));
  return {
    bytes,
    reqPerSec: median(results.map((r) => r.reqPerSec)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
    failures: results.reduce((a, r) => a + r.failures, 0),
  };
}

function status(pid: number): string {
  return readFileSync(`/proc/${pid}/status`, 'utf8');
}

function kbField(text: string, field: string): number {
  const m = text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** Samples VmRSS of `pid` every 50 ms while `work` runs. */
async function measureRss(pid: number, label: string, uploadedBytes: number, work: () => Promise<unknown>): Promise<RssPhase> {
  let hwmReset = true;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
  } catch {
    hwmReset = false;
  }
  const baselineRss = kbField(status(pid), 'VmRSS');
  let peakRss = baselineRss;
  const timer = setInterval(() => {
    try {
      peakRss = Math.max(peakRss, kbField(status(pid), 'VmRSS'));
    } catch {
      // the process ended; the work will fail and say why
    }
  }, 50);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - started) / 1000;
  const text = status(pid);
  peakRss = Math.max(peakRss, kbField(text, 'VmRSS'));
  return { label, uploadedBytes, seconds, baselineRss, peakRss, hwm: hwmReset ? kbField(text, 'VmHWM') : null };
}

export interface GrowthOptions {
  readonly connections: number;
  readonly durationSec: number;
  readonly warmupSec: number;
  readonly runs: number;
  readonly skipBig: boolean;
  /** Where the generated files go (removed afterwards). */
  readonly workDir: string;
  readonly log: (line: string) => void;
}

export async function measureGrowth(server: ServerProcess, o: GrowthOptions): Promise<GrowthResult> {
  const idleRss = kbField(status(server.child.pid), 'VmRSS');
  let uid = 900_000;
  // RSS first, on the fresh server: the peaks then measure the uploads, not the heap a load test left behind.
  const rss: RssPhase[] = [];
  if (!o.skipBig) {
    // 2047 frames: just under 1 GiB, so the default MAX_UPLOAD_BYTES (1 GiB) accepts it
    const gibPath = join(o.workDir, 'one-gib.dcm');
    const gibBytes = await writeMultiFrameCt(gibPath, { ...FRAME, frames: 2047, sopInstanceUid: uidOfLength(46, uid++) });
    o.log(`growth: peak RSS while uploading ${(gibBytes / 2 ** 30).toFixed(2)} GiB`);
    rss.push(await measureRss(server.child.pid, 'one 1 GiB upload', gibBytes, async () => uploadedId(await uploadFile(server.url, gibPath, 'one-gib.dcm'))));
    rmSync(gibPath);
    const paths: string[] = [];
    let total = 0;
    for (let i = 0; i < 10; i++) {
      const path = join(o.workDir, `hundred-${i}.dcm`);
      total += await writeMultiFrameCt(path, { ...FRAME, frames: Math.ceil(100e6 / FRAME_BYTES), sopInstanceUid: uidOfLength(46, uid++) });
      paths.push(path);
    }
    o.log(`growth: peak RSS while 10 × ${(total / 10 / 1e6).toFixed(0)} MB upload at once`);
    rss.push(
      await measureRss(server.child.pid, '10 × 100 MB uploads at once', total, () =>
        Promise.all(paths.map(async (p, i) => uploadedId(await uploadFile(server.url, p, `hundred-${i}.dcm`)))),
      ),
    );
    for (const p of paths) rmSync(p);
  }
  const small = tinyCt(uid++);
  const smallId = uploadedId(await uploadBytes(server.url, small, 'small.dcm'));
  const bigPath = join(o.workDir, 'big-400-frames.dcm');
  const bigBytes = await writeMultiFrameCt(bigPath, { ...FRAME, frames: 400, sopInstanceUid: uidOfLength(46, uid++) });
  o.log(`growth: uploading the ${(bigBytes / 1e6).toFixed(0)} MB multi-frame file`);
  const bigId = uploadedId(await uploadFile(server.url, bigPath, 'big.dcm'));
  rmSync(bigPath);
  o.log(`growth: attribute latency on ${small.length} B vs ${(bigBytes / 1e6).toFixed(0)} MB`);
  const smallStats = await attributeLatency(server, smallId, small.length, o);
  const bigStats = await attributeLatency(server, bigId, bigBytes, o);
  return { idleRss, small: smallStats, big: bigStats, rss };
}
