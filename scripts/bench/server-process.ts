/**
 * The server under test: `npm run build`, then `node dist/main.js` in production mode on a temp
 * DATA_DIR and a free port, in its own process (it competes with the load generator for the CPU
 * exactly as the floors do).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Child, freePort, removeOnExit, spawnChild, waitForHttp } from './processes.js';

/**
 * Settings the benchmark gives the server (everything else is the default):
 * - RATE_LIMIT_PER_MINUTE=0: the limiter (600/min) would answer 429 to a load test;
 * - LOG_LEVEL=warn: one info line per request would measure the logger.
 */
export const BENCH_SERVER_ENV: Readonly<Record<string, string>> = {
  NODE_ENV: 'production',
  LOG_LEVEL: 'warn',
  RATE_LIMIT_PER_MINUTE: '0',
  HOST: '127.0.0.1',
};

export interface ServerProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly child: Child;
  stop(): Promise<void>;
}

/** `npm run build`; throws with the compiler output when it fails. */
export function buildServer(root = resolve('.')): void {
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`npm run build failed (exit ${result.status}); the benchmark measures dist/, so it stops here:\n${result.stdout}\n${result.stderr}`);
  }
  if (!existsSync(join(root, 'dist/main.js'))) throw new Error('npm run build succeeded but dist/main.js is missing');
}

/**
 * Starts dist/main.js on a temp DATA_DIR (removed at the end) with BENCH_SERVER_ENV plus `env`;
 * with `profileDir`, under `--cpu-prof` (one .cpuprofile per thread, written when it stops).
 */
export async function startServer(env: Record<string, string> = {}, profileDir?: string, root = resolve('.')): Promise<ServerProcess> {
  const dataDir = removeOnExit(mkdtempSync(join(tmpdir(), 'dicomql-bench-data-')));
  const port = await freePort();
  const child = spawnChild('dicomql server', process.execPath, [...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), join(root, 'dist/main.js')], {
    ...process.env,
    ...BENCH_SERVER_ENV,
    PORT: String(port),
    DATA_DIR: dataDir,
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(child, `${url}/healthz`);
  return { url, dataDir, child, stop: () => child.stop(15_000) };
}
