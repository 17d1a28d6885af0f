/** The real entry point as a child process: start, serve, stop on SIGTERM; refuse bad config. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'dicomql-process-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('main', () => {
  it('serves on the configured port and closes gracefully on SIGTERM', async () => {
    const proc = start({ PORT: '0' });
    const deadline = Date.now() + 30_000;
    let url: string | undefined;
    while (!url && Date.now() < deadline) {
      url = /on (http:\/\/127\.0\.0\.1:\d+)\/graphql/.exec(proc.output())?.[1];
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(url, proc.output()).toBeDefined();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
    expect(proc.output()).toContain('SIGTERM: closing');
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT must be a whole number'],
    [{ PORT: '0', MAX_UPLOAD_BYTES: '-5' }, 'MAX_UPLOAD_BYTES must be a whole number'],
    [{ PORT: '0', PUBLIC_URL: 'example.org' }, 'PUBLIC_URL must be an absolute http(s) URL'],
  ])('refuses to start with %j', async (env, message) => {
    const proc = start(env);
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toContain(message);
  });
});
