/**
 * The benchmark's report: rows with req/s, p50, p99, the ratio to a floor and issue 6's target,
 * as a text table and as JSON (.bench/results-<timestamp>.json) so runs can be compared.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GrowthResult } from './growth.js';
import { ratio } from './stats.js';

/** Medians over the runs of one measurement. */
export interface Summary {
  readonly reqPerSec: number;
  readonly p50: number;
  readonly p99: number;
  /** Over all runs. */
  readonly failures: number;
  /** Median CPU time (all threads) of the answering process per request, ms. */
  readonly cpuMsPerRequest?: number;
}

export interface Row {
  readonly scenario: string;
  readonly reqPerSec?: number;
  readonly p50?: number;
  readonly p99?: number;
  /** CPU ms per request of the answering process (all its threads). */
  readonly cpuMs?: number;
  /** What the ratio compares with, e.g. "bare JSON floor". */
  readonly reference?: string;
  readonly ratio?: number;
  /** e.g. "≥ 1.0 (must)". */
  readonly target?: string;
  /** null when there is no target. */
  readonly pass: boolean | null;
  /** Requests that did not get the expected answer. */
  readonly failures?: number;
}

interface RatioDef {
  readonly scenario: string;
  readonly subject: string;
  readonly floors: readonly { readonly key: string; readonly label: string; readonly min?: number; readonly kind?: 'must' | 'stretch' }[];
}

/** Issue 6 "Targets" (ratios to the floors from the same run). */
export const RATIO_ROWS: readonly RatioDef[] = [
  {
    scenario: 'attribute: one tag',
    subject: 'server.attr1',
    floors: [
      { key: 'yoga.attr1', label: 'stock-yoga floor', min: 1.0, kind: 'must' },
      { key: 'bare.attr1', label: 'bare JSON floor', min: 0.6, kind: 'stretch' },
    ],
  },
  {
    scenario: 'attribute: 14 tags',
    subject: 'server.attr14',
    floors: [
      { key: 'yoga.attr14', label: 'stock-yoga floor' },
      { key: 'bare.attr14', label: 'bare JSON floor' },
    ],
  },
  {
    scenario: 'attribute: all',
    subject: 'server.attrAll',
    floors: [
      { key: 'yoga.attrAll', label: 'stock-yoga floor' },
      { key: 'bare.attrAll', label: 'bare JSON floor' },
    ],
  },
  { scenario: 'png cold (distinct window)', subject: 'server.pngCold', floors: [{ key: 'bare.png', label: 'PNG floor', min: 0.2, kind: 'must' }] },
  { scenario: 'png warm (same URL)', subject: 'server.pngWarm', floors: [{ key: 'bare.png', label: 'PNG floor', min: 0.8, kind: 'must' }] },
  {
    scenario: 'png warm, If-None-Match → 304',
    subject: 'server.png304',
    floors: [
      { key: 'bare.attr1', label: 'bare JSON floor', min: 0.6, kind: 'must' },
      { key: 'bare.png304', label: 'bare 304 floor' },
    ],
  },
  { scenario: 'upload, distinct files', subject: 'server.upload', floors: [{ key: 'bare.upload', label: 'upload sink floor', min: 0.28, kind: 'must' }] },
];

/** Floors shown on rows of their own (req/s for reference). */
const FLOOR_ROWS: readonly [string, string][] = [
  ['bare.attr1', 'floor: bare JSON (one tag answer)'],
  ['bare.attr14', 'floor: bare JSON (14 tags answer)'],
  ['bare.attrAll', 'floor: bare JSON (all answer)'],
  ['yoga.attr1', 'floor: stock yoga, one tag'],
  ['yoga.attr14', 'floor: stock yoga, 14 tags'],
  ['yoga.attrAll', 'floor: stock yoga, all'],
  ['bare.png', 'floor: bare PNG'],
  ['bare.png304', 'floor: bare 304'],
  ['bare.upload', 'floor: upload sink'],
];

export function throughputRows(summaries: Readonly<Record<string, Summary>>): Row[] {
  const rows: Row[] = [];
  for (const def of RATIO_ROWS) {
    const s = summaries[def.subject];
    if (!s) continue;
    def.floors.forEach((f, i) => {
      const r = ratio(s.reqPerSec, summaries[f.key]?.reqPerSec);
      const pass = f.min === undefined || Number.isNaN(r) ? null : r >= f.min;
      rows.push({
        scenario: i === 0 ? def.scenario : '',
        ...(i === 0 ? { reqPerSec: s.reqPerSec, p50: s.p50, p99: s.p99, failures: s.failures, ...cpuOf(s) } : {}),
        reference: f.label,
        ratio: r,
        ...(f.min !== undefined ? { target: `≥ ${f.min.toFixed(2)} (${f.kind})` } : {}),
        pass,
      });
    });
  }
  for (const [key, label] of FLOOR_ROWS) {
    const s = summaries[key];
    if (s) rows.push({ scenario: label, reqPerSec: s.reqPerSec, p50: s.p50, p99: s.p99, failures: s.failures, ...cpuOf(s), pass: null });
  }
  return rows;
}

function cpuOf(s: Summary): { cpuMs?: number } {
  return s.cpuMsPerRequest !== undefined ? { cpuMs: s.cpuMsPerRequest } : {};
}

const MB = 1024 * 1024;

export function growthRows(g: GrowthResult): Row[] {
  const rows: Row[] = [];
  if (g.small && g.big) {
    rows.push({ scenario: `attribute on ${g.small.bytes} B file`, reqPerSec: g.small.reqPerSec, p50: g.small.p50, p99: g.small.p99, failures: g.small.failures, pass: null });
    const r50 = ratio(g.big.p50, g.small.p50);
    const r99 = ratio(g.big.p99, g.small.p99);
    rows.push({
      scenario: `attribute on ${(g.big.bytes / 1e6).toFixed(0)} MB file`,
      reqPerSec: g.big.reqPerSec,
      p50: g.big.p50,
      p99: g.big.p99,
      failures: g.big.failures,
      reference: 'latency ÷ 1 KB file (p50)',
      ratio: r50,
      target: '≤ 1.50 (must)',
      pass: Number.isNaN(r50) ? null : r50 <= 1.5,
    });
    rows.push({ scenario: '', reference: 'latency ÷ 1 KB file (p99)', ratio: r99, target: '≤ 1.50 (must)', pass: Number.isNaN(r99) ? null : r99 <= 1.5 });
  }
  rows.push({ scenario: 'RSS of the fresh server, idle', reference: `${(g.idleRss / MB).toFixed(0)} MB`, pass: null });
  const limits: Record<string, number> = { 'one 1 GiB upload': 250 * MB, '10 × 100 MB uploads at once': 400 * MB };
  for (const p of g.rss) {
    const limit = limits[p.label];
    const peak = Math.max(p.peakRss, p.hwm ?? 0);
    rows.push({
      scenario: `peak RSS, ${p.label}`,
      reference: `peak ${(peak / MB).toFixed(0)} MB (before: ${(p.baselineRss / MB).toFixed(0)} MB; ${(p.uploadedBytes / MB / p.seconds).toFixed(0)} MB/s)`,
      ...(limit ? { target: `< ${(limit / MB).toFixed(0)} MB (must)`, pass: peak < limit } : { pass: null }),
    });
  }
  return rows;
}

function num(n: number | undefined, digits: number): string {
  return n === undefined || Number.isNaN(n) ? '' : n.toFixed(digits);
}

/** A Markdown table of the rows (readable in a terminal and pasteable into the README). */
export function formatTable(rows: readonly Row[]): string {
  const header = ['scenario', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/req', 'ratio to', 'ratio', 'target', 'result'];
  const cells = rows.map((r) => [
    r.scenario,
    num(r.reqPerSec, 0),
    num(r.p50, 2),
    num(r.p99, 2),
    num(r.cpuMs, 3),
    r.reference ?? '',
    num(r.ratio, 3),
    r.target ?? '',
    (r.pass === null ? '' : r.pass ? 'pass' : 'MISS') + (r.failures ? ` (${r.failures} failed requests)` : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const numeric = (i: number) => (i >= 1 && i <= 4) || i === 6;
  const line = (c: readonly string[]) => `| ${c.map((s, i) => (numeric(i) ? s.padStart(widths[i]!) : s.padEnd(widths[i]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((w, i) => (numeric(i) ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`, ...cells.map(line)].join('\n');
}

/** Writes `results` to <dir>/results-<timestamp>.json; returns the path. */
export function writeResults(dir: string, results: unknown, at = new Date()): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `results-${at.toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}
