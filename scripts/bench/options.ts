/** Command-line flags and environment of `npm run bench`. */
import { resolve } from 'node:path';
import { SCENARIO_GROUPS, type ScenarioGroup } from './scenarios.js';

export interface BenchOptions {
  /** Seconds per measured run (BENCH_DURATION, --duration). */
  readonly durationSec: number;
  /** Seconds of the discarded warm-up before each measurement's first run (BENCH_WARMUP, --warmup). */
  readonly warmupSec: number;
  /** Runs per measurement; the table shows medians (BENCH_RUNS, --runs). */
  readonly runs: number;
  /** Concurrent connections (BENCH_CONNECTIONS, --connections). */
  readonly connections: number;
  /** Scenario groups to run (--only attribute,png,upload,growth; default all). */
  readonly groups: ReadonlySet<ScenarioGroup>;
  /** Skip the 1 GiB and 10 × 100 MB uploads (--skip-big, BENCH_SKIP_BIG=1). */
  readonly skipBig: boolean;
  /** Run the server under --cpu-prof, profiles written here (--profile [dir], default .bench/profiles). */
  readonly profile?: string;
  /** Do not decode unchecked response bodies in the load generator (--lean-client). */
  readonly leanClient: boolean;
  /** Skip `npm run build` (--no-build; dist/ must be current). */
  readonly build: boolean;
}

export const USAGE = `npm run bench -- [--duration 10] [--warmup 3] [--runs 3] [--connections 8] [--only ${SCENARIO_GROUPS.join(',')}] [--skip-big] [--lean-client] [--no-build] [--profile[=dir]]`;

function positive(name: string, raw: string | undefined, fallback: number, integer: boolean): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)) || (name !== 'warmup' && n === 0)) throw new Error(`--${name} must be a ${integer ? 'positive integer' : 'positive number'}, got ${JSON.stringify(raw)}\n${USAGE}`);
  return n;
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const flags = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') throw new Error(USAGE);
    if (arg === '--profile' || arg.startsWith('--profile=')) {
      flags.set('profile', arg.slice('--profile='.length) || '.bench/profiles');
      continue;
    }
    if (arg === '--skip-big' || arg === '--no-build' || arg === '--lean-client') {
      switches.add(arg.slice(2));
      continue;
    }
    const m = arg.match(/^--(duration|warmup|runs|connections|only)(?:=(.*))?$/);
    if (!m) throw new Error(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${m[1]} needs a value\n${USAGE}`);
    flags.set(m[1]!, value);
  }
  const only = flags.get('only') ?? env.BENCH_ONLY;
  const groups = new Set<ScenarioGroup>();
  for (const g of only ? only.split(',').map((s) => s.trim()) : SCENARIO_GROUPS) {
    if (!(SCENARIO_GROUPS as readonly string[]).includes(g)) throw new Error(`--only: unknown scenario ${JSON.stringify(g)} (one of ${SCENARIO_GROUPS.join(', ')})`);
    groups.add(g as ScenarioGroup);
  }
  return {
    durationSec: positive('duration', flags.get('duration') ?? env.BENCH_DURATION, 10, false),
    warmupSec: positive('warmup', flags.get('warmup') ?? env.BENCH_WARMUP, 3, false),
    runs: positive('runs', flags.get('runs') ?? env.BENCH_RUNS, 3, true),
    connections: positive('connections', flags.get('connections') ?? env.BENCH_CONNECTIONS, 8, true),
    groups,
    skipBig: switches.has('skip-big') || env.BENCH_SKIP_BIG === '1',
    leanClient: switches.has('lean-client') || env.BENCH_LEAN_CLIENT === '1',
    build: !switches.has('no-build'),
    ...(flags.has('profile') ? { profile: resolve(flags.get('profile')!) } : {}),
  };
}
