/**
 * `npm run bench`: issue 6's benchmark. Builds and starts the real server (dist/, production, temp
 * DATA_DIR), the bare node:http and stock graphql-yoga floors, loads each with autocannon (fixed
 * connections and duration, a warm-up, several runs, medians), then measures cost growth on a
 * fresh server; prints the table and writes .bench/results-<timestamp>.json.
 */
import { mkdtempSync } from 'node:fs';
import { cpus, freemem, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { loadCt } from './fixtures.js';
import { type FloorProcess, startFloor } from './floors.js';
import { measureGrowth, type GrowthResult } from './growth.js';
import { type LoadResult, runLoad, setLeanClient } from './load.js';
import { mainThreadCpuMs, processCpuMs } from './process-cpu.js';
import { type BenchOptions, parseOptions, USAGE } from './options.js';
import { cleanUp, cleanUpSync, removeOnExit } from './processes.js';
import { formatTable, growthRows, type Summary, throughputRows, writeResults } from './report.js';
import { ATTRIBUTE_QUERIES, type AttributeQuery, measurements, type Prepared, prepare } from './scenarios.js';
import { BENCH_SERVER_ENV, buildServer, type ServerProcess, startServer } from './server-process.js';
import { median } from './stats.js';

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function throughput(o: BenchOptions, ct: Buffer, workDir: string): Promise<{ summaries: Record<string, Summary>; runs: Record<string, LoadResult[]>; warnings: string[] }> {
  const summaries: Record<string, Summary> = {};
  const runs: Record<string, LoadResult[]> = {};
  const warnings: string[] = [];
  if (!['attribute', 'png', 'upload'].some((g) => o.groups.has(g as never))) return { summaries, runs, warnings };
  const server = await startServer({}, o.profile);
  log(`server ${server.url} (pid ${server.child.pid})`);
  const floors: FloorProcess[] = [];
  try {
    const prepared = await prepare(server.url, ct, workDir);
    log(`CT uploaded (${ct.length} B); PNG ${prepared.pngBytes} B`);
    const bare = await startFloor(prepared.bare, workDir);
    const yoga = await startFloor(prepared.yoga, workDir);
    floors.push(bare, yoga);
    const origin = { server: server.url, bare: bare.url, yoga: yoga.url };
    const pids = { server: server.child.pid, bare: bare.child.pid, yoga: yoga.child.pid };
    await checkFloorAnswers(prepared, origin);
    const list = measurements(prepared, server.url, ct, o.groups);
    const base = { connections: o.connections };
    // Runs interleave the measurements, so a slow spell of the machine spreads over all of them.
    for (let run = 0; run < o.runs; run++) {
      for (const m of list) {
        if (run === 0 && o.warmupSec > 0) await runLoad(await m.spec(origin[m.target], { ...base, durationSec: o.warmupSec }));
        const spec = await m.spec(origin[m.target], { ...base, durationSec: o.durationSec });
        const pid = pids[m.target];
        const before = { all: processCpuMs(pid), main: mainThreadCpuMs(pid) };
        const load = await runLoad(spec);
        const after = { all: processCpuMs(pid), main: mainThreadCpuMs(pid) };
        const perRequest = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined && load.requests > 0 ? (b - a) / load.requests : undefined);
        const cpu = perRequest(before.all, after.all);
        const mainCpu = perRequest(before.main, after.main);
        const result: LoadResult = { ...load, ...(cpu !== undefined ? { cpuMsPerRequest: cpu } : {}), ...(mainCpu !== undefined ? { mainThreadCpuMsPerRequest: mainCpu } : {}) };
        (runs[m.key] ??= []).push(result);
        const warning = m.afterRun?.();
        if (warning) warnings.push(warning);
        log(`run ${run + 1}/${o.runs} ${m.key.padEnd(15)} ${result.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${result.p50.toFixed(2)} ms  p99 ${result.p99.toFixed(2)} ms${result.cpuMsPerRequest !== undefined ? `  cpu ${result.cpuMsPerRequest.toFixed(3)} ms/req (main thread ${result.mainThreadCpuMsPerRequest?.toFixed(3)})` : ''}${result.failures || !result.requests ? `  ${result.failures} FAILED ${JSON.stringify(result.statusCodes)}` : ''}`);
      }
    }
  } finally {
    await Promise.all([server.stop(), ...floors.map((f) => f.stop())]);
  }
  for (const [key, rs] of Object.entries(runs)) {
    summaries[key] = {
      reqPerSec: median(rs.map((r) => r.reqPerSec)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      failures: rs.reduce((a, r) => a + r.failures, 0),
      ...(rs.every((r) => r.cpuMsPerRequest !== undefined) ? { cpuMsPerRequest: median(rs.map((r) => r.cpuMsPerRequest!)) } : {}),
    };
  }
  return { summaries, runs, warnings };
}

/** The floors must answer what the server answers (same query text, same JSON), or the ratios compare different work. */
async function checkFloorAnswers(prepared: Prepared, origin: { bare: string; yoga: string }): Promise<void> {
  for (const [key, query] of Object.entries(ATTRIBUTE_QUERIES) as [AttributeQuery, string][]) {
    for (const [name, url] of [['yoga', `${origin.yoga}/graphql`], ['bare', `${origin.bare}/json/${key}`]] as const) {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables: { id: prepared.ctId } }) });
      const text = await res.text();
      if (!isDeepStrictEqual(JSON.parse(text), JSON.parse(prepared.answers[key]))) throw new Error(`the ${name} floor answers ${key} differently from the server:\n${text.slice(0, 300)}\nvs\n${prepared.answers[key].slice(0, 300)}`);
    }
  }
}

async function growth(o: BenchOptions, workDir: string): Promise<GrowthResult | undefined> {
  if (!o.groups.has('growth')) return undefined;
  let server: ServerProcess | undefined;
  try {
    server = await startServer({}, o.profile);
    log(`growth: fresh server ${server.url} (pid ${server.child.pid})`);
    return await measureGrowth(server, { ...o, workDir, log });
  } finally {
    await server?.stop();
  }
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    console.log(`usage: ${USAGE}`);
    return;
  }
  const o = parseOptions(process.argv.slice(2));
  setLeanClient(o.leanClient);
  if (o.build) {
    log('npm run build');
    buildServer();
  }
  const ct = loadCt();
  const workDir = removeOnExit(mkdtempSync(join(tmpdir(), 'dicomql-bench-')));
  log(`CT: ${ct.source}; ${o.connections} connections, ${o.durationSec} s × ${o.runs} runs, warm-up ${o.warmupSec} s; groups ${[...o.groups].join(',')}${o.skipBig ? ' (skip big)' : ''}${o.leanClient ? ', lean client' : ''}`);
  const t = await throughput(o, ct.bytes, workDir);
  const g = await growth(o, workDir);
  const rows = [...throughputRows(t.summaries), ...(g ? growthRows(g) : [])];
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    freeMemoryGiB: +(freemem() / 2 ** 30).toFixed(1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
  const path = writeResults(resolve('.bench'), {
    at: new Date().toISOString(),
    machine,
    options: { ...o, groups: [...o.groups] },
    serverEnv: BENCH_SERVER_ENV,
    ct: { source: ct.source, bytes: ct.bytes.length },
    summaries: t.summaries,
    runs: t.runs,
    growth: g,
    rows,
    warnings: t.warnings,
  });
  console.log(`\n${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}; ${o.connections} connections, ${o.durationSec} s × ${o.runs} runs (medians)${o.leanClient ? '; lean client (unchecked bodies not decoded)' : ''}\n`);
  console.log(formatTable(rows));
  for (const w of t.warnings) console.log(`warning: ${w}`);
  console.log(`\nresults: ${path}`);
}

process.on('exit', cleanUpSync);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    cleanUp().finally(() => process.exit(130));
  });
}

main()
  .then(() => cleanUp())
  .catch(async (err: unknown) => {
    console.error(`[bench] failed: ${err instanceof Error ? err.message : String(err)}`);
    await cleanUp();
    process.exitCode = 1;
  });
