/** Pure helpers of `npm run bench` (the benchmark itself is not a test): statistics, the report table, distinct-UID files. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BufferByteSource } from '../../src/dicom/byte-source.js';
import { parseHeader } from '../../src/dicom/header.js';
import { buildCtLike, sopInstanceUidSpans, tinyCt, uidOfLength, withSopInstanceUid, writeMultiFrameCt } from '../../scripts/bench/fixtures.js';
import { parseOptions } from '../../scripts/bench/options.js';
import { cpuMsOfStat, processCpuMs } from '../../scripts/bench/process-cpu.js';
import { formatTable, growthRows, throughputRows } from '../../scripts/bench/report.js';
import { median, quantile, ratio } from '../../scripts/bench/stats.js';

describe('statistics', () => {
  it('median of odd and even counts, unsorted input', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('quantile is the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(sorted, 0.5)).toBe(50);
    expect(quantile(sorted, 0.99)).toBe(99);
    expect(quantile(sorted, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
  });

  it('ratio is NaN without a positive floor', () => {
    expect(ratio(30, 120)).toBe(0.25);
    expect(ratio(30, 0)).toBeNaN();
    expect(ratio(30, undefined)).toBeNaN();
  });
});

describe('report', () => {
  const summaries = {
    'server.attr1': { reqPerSec: 3000, p50: 2, p99: 9, failures: 0, cpuMsPerRequest: 0.25 },
    'yoga.attr1': { reqPerSec: 2500, p50: 3, p99: 10, failures: 0 },
    'bare.attr1': { reqPerSec: 20000, p50: 0.3, p99: 1, failures: 0 },
    'server.upload': { reqPerSec: 50, p50: 150, p99: 300, failures: 2 },
    'bare.upload': { reqPerSec: 500, p50: 15, p99: 30, failures: 0 },
  };

  it('rates each subject against its floors and the issue 6 targets', () => {
    const rows = throughputRows(summaries);
    const attr = rows.filter((r) => r.reference && (r.reference.includes('yoga') || r.reference.includes('JSON')) && r.ratio !== undefined && !Number.isNaN(r.ratio));
    expect(attr.map((r) => [r.reference, r.ratio, r.pass])).toEqual([
      ['stock-yoga floor', 1.2, true],
      ['bare JSON floor', 0.15, false],
    ]);
    const upload = rows.find((r) => r.scenario === 'upload, distinct files')!;
    expect(upload).toMatchObject({ ratio: 0.1, pass: false, failures: 2, target: '≥ 0.28 (must)' });
    // scenarios whose floor was not measured are left out
    expect(rows.some((r) => r.scenario.startsWith('png'))).toBe(false);
  });

  it('growth: latency ratio and RSS limits', () => {
    const MB = 1024 * 1024;
    const rows = growthRows({
      idleRss: 100 * MB,
      small: { bytes: 1000, reqPerSec: 100, p50: 2, p99: 10, failures: 0 },
      big: { bytes: 210e6, reqPerSec: 90, p50: 4, p99: 12, failures: 0 },
      rss: [{ label: 'one 1 GiB upload', uploadedBytes: 2 ** 30, seconds: 10, baselineRss: 120 * MB, peakRss: 260 * MB, hwm: 240 * MB }],
    });
    expect(rows.map((r) => [r.ratio, r.pass])).toEqual([
      [undefined, null],
      [2, false],
      [1.2, true],
      [undefined, null],
      [undefined, false],
    ]);
    expect(rows[4]!.reference).toBe('peak 260 MB (before: 120 MB; 102 MB/s)');
  });

  it('formats a Markdown table with aligned columns and pass/MISS', () => {
    const table = formatTable(throughputRows(summaries));
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^\| scenario +\| req\/s \| p50 ms \| p99 ms \| CPU ms\/req \| ratio to +\| ratio \| target +\| result +\|$/);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(table).toContain('|  3000 |   2.00 |   9.00 |      0.250 | stock-yoga floor  | 1.200 | ≥ 1.00 (must)    | pass');
    expect(table).toContain('MISS (2 failed requests)');
  });
});

describe('distinct-UID files', () => {
  it('uidOfLength gives valid, distinct UIDs of the exact length', () => {
    const a = uidOfLength(46, 1);
    const b = uidOfLength(46, 12345);
    expect(a).toHaveLength(46);
    expect(b).toHaveLength(46);
    expect(a).not.toBe(b);
    for (const uid of [a, b]) expect(uid).toMatch(/^(0|[1-9]\d*)(\.(0|[1-9]\d*))*$/);
    expect(() => uidOfLength(7, 100)).toThrow();
  });

  it('a copy with another SOP Instance UID keeps the length and every other byte, and still parses', () => {
    const original = buildCtLike({ rows: 8, columns: 8, frames: 2, sopInstanceUid: uidOfLength(46, 0) });
    const copy = withSopInstanceUid(original, 42);
    expect(copy.length).toBe(original.length);
    const spans = sopInstanceUidSpans(original);
    expect(spans).toHaveLength(2); // (0002,0003) and (0008,0018)
    let changed = 0;
    for (let i = 0; i < copy.length; i++) {
      if (copy[i] === original[i]) continue;
      changed++;
      expect(spans.some((s) => i >= s.offset && i < s.offset + s.length)).toBe(true);
    }
    expect(changed).toBeGreaterThan(0);
    const h = parseHeader(new BufferByteSource(copy));
    expect(h.dataset.get('00080018')!.values).toEqual([uidOfLength(46, 42)]);
    expect(h.meta.get('00020003')!.values).toEqual([uidOfLength(46, 42)]);
    expect(h.dataset.get('00280008')!.values).toEqual([2]);
    expect(h.dataset.get('00280010')!.values).toEqual([8]);
  });

  it('a multi-frame file written to disk frame by frame has the size it reports and parses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-helpers-'));
    try {
      const path = join(dir, 'mf.dcm');
      const size = await writeMultiFrameCt(path, { rows: 4, columns: 6, frames: 3, sopInstanceUid: uidOfLength(46, 7) });
      const bytes = readFileSync(path);
      expect(bytes.length).toBe(size);
      const h = parseHeader(new BufferByteSource(bytes));
      expect(h.dataset.get('00280008')!.values).toEqual([3]);
      expect(h.dataset.get('00080018')!.values).toEqual([uidOfLength(46, 7)]);
      expect(h.structure.pixelData).toMatchObject({ vr: 'OW', length: 4 * 6 * 2 * 3 });
      expect(bytes.indexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x57]))).toBe(size - 4 * 6 * 2 * 3 - 12); // pixel data last
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the ~1 KB file is about 1 KB', () => {
    expect(tinyCt(1).length).toBeGreaterThan(800);
    expect(tinyCt(1).length).toBeLessThan(1600);
  });

  it('rejects files it cannot patch', () => {
    expect(() => sopInstanceUidSpans(Buffer.alloc(200))).toThrow(/DICM/);
  });
});

describe('options', () => {
  it('flags, then env, then defaults', () => {
    const o = parseOptions(['--duration', '2', '--runs=1', '--only', 'attribute,png', '--skip-big'], { BENCH_CONNECTIONS: '4' });
    expect(o).toMatchObject({ durationSec: 2, runs: 1, connections: 4, warmupSec: 3, skipBig: true, build: true });
    expect([...o.groups]).toEqual(['attribute', 'png']);
    expect(parseOptions([], {}).groups.size).toBe(4);
    expect(() => parseOptions(['--only', 'nope'], {})).toThrow(/unknown scenario/);
    expect(() => parseOptions(['--runs', '0'], {})).toThrow(/positive integer/);
  });
});

describe('processCpuMs', () => {
  it('reads user + system ticks of /proc/<pid>/stat (a name with spaces and parentheses included)', () => {
    const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 1000 1000 100';
    expect(cpuMsOfStat(stat)).toBe(3250);
    expect(cpuMsOfStat('garbage')).toBeUndefined();
  });

  it.skipIf(process.platform !== 'linux')('grows while this process works', () => {
    const before = processCpuMs(process.pid)!;
    const until = Date.now() + 60;
    while (Date.now() < until);
    expect(processCpuMs(process.pid)!).toBeGreaterThan(before);
  });
});
