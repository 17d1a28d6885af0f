/**
 * Where the server's CPU time goes: `tsx scripts/bench/profile-summary.ts <file.cpuprofile>… [--top N]`
 * prints self time by area (src/<dir>/<file>, node_modules package, node internals, GC, idle)
 * and the top functions, from the profiles `npm run bench -- --profile` writes.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The area a script URL belongs to: "src/http/app.js", "graphql-yoga", "node:internal", … */
export function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url.startsWith('node:internal/') ? `node:${url.split('/')[1]}` : url;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const dist = url.match(/\/dist\/(.*)$/);
  return dist ? `src/${dist[1]}` : url.replace(/^file:\/\//, '');
}

function summarize(path: string, top: number): void {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  // piscina's workers wait for tasks in Atomics.wait: idle, not work
  const isIdle = (f: ProfileNode['callFrame']) => f.functionName === '(idle)' || f.functionName === 'atomicsWaitLoop';
  const idle = [...self.entries()].filter(([id]) => isIdle(byId.get(id)!.callFrame)).reduce((a, [, t]) => a + t, 0);
  const areas = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, t] of self) {
    const f = byId.get(id)!.callFrame;
    if (isIdle(f)) continue;
    const area = areaOf(f.url, f.functionName);
    areas.set(area, (areas.get(area) ?? 0) + t);
    const fn = `${f.functionName || '(anonymous)'} ${area}:${f.lineNumber + 1}`;
    fns.set(fn, (fns.get(fn) ?? 0) + t);
  }
  const busy = total - idle;
  const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)} %`;
  console.log(`\n${path}\n  ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages of busy time)\n  self time by area:`);
  for (const [a, t] of [...areas].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`    ${pct(t)}  ${a}`);
  console.log('  top functions (self):');
  for (const [f, t] of [...fns].sort((x, y) => y[1] - x[1]).slice(0, top)) console.log(`    ${pct(t)}  ${f}`);
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
  if (args.length === 0) {
    console.error('usage: tsx scripts/bench/profile-summary.ts <file.cpuprofile>… [--top N]');
    process.exit(1);
  }
  for (const path of args) summarize(path, top);
}
