/**
 * Child processes of the benchmark (the server under test and the floors): spawned with their
 * output kept for error messages, killed when the benchmark ends, fails or is interrupted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Last lines of stdout and stderr (for error messages). */
  output(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<Child>();
const tempDirs = new Set<string>();

/** Spawns `command args` with `env`; the child is killed on exit of the benchmark. */
export function spawnChild(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv): Child {
  const proc = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`${name}: could not spawn ${command}`);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString('utf8')).slice(-8000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const child: Child = {
    name,
    process: proc,
    pid: proc.pid,
    output: () => tail,
    async stop(graceMs = 5000) {
      children.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(child);
  return child;
}

/** Resolves with the first stdout line matching `pattern` (its match), or rejects when the child exits first or after `timeoutMs`. */
export function waitForLine(child: Child, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const match = buffered.match(pattern);
      if (match) done(() => resolve(match));
    };
    const onExit = (code: number | null) => done(() => reject(new Error(`${child.name} exited (code ${code}) before it was ready:\n${child.output()}`)));
    const timer = setTimeout(() => done(() => reject(new Error(`${child.name} not ready after ${timeoutMs} ms:\n${child.output()}`))), timeoutMs);
    const done = (then: () => void) => {
      clearTimeout(timer);
      child.process.stdout!.off('data', onData);
      child.process.off('exit', onExit);
      then();
    };
    child.process.stdout!.on('data', onData);
    child.process.once('exit', onExit);
  });
}

/** Polls `url` until it answers 200, or rejects when the child exits or after `timeoutMs`. */
export async function waitForHttp(child: Child, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) throw new Error(`${child.name} exited (code ${child.process.exitCode}) before it was ready:\n${child.output()}`);
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms:\n${child.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Registers a temp dir to remove when the benchmark ends. */
export function removeOnExit(dir: string): string {
  tempDirs.add(dir);
  return dir;
}

/** Stops every child still running and removes the registered temp dirs. */
export async function cleanUp(): Promise<void> {
  await Promise.all([...children].map((c) => c.stop(2000)));
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** Synchronous last resort (process 'exit'): SIGKILL children, remove temp dirs. */
export function cleanUpSync(): void {
  for (const c of children) c.process.kill('SIGKILL');
  children.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
