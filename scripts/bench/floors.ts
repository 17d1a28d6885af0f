/**
 * The floors: a bare node:http server and a stock graphql-yoga server that answer constants,
 * each in its own process (like the server under test) so they compete with the load generator
 * for the CPU the same way.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, spawnChild, waitForLine } from './processes.js';

/** What a floor process answers (written to a JSON file for the child). */
export type FloorSpec =
  | {
      kind: 'bare';
      /** POST /json/<name> → this body. */
      json: Record<string, string>;
      /** GET /png → these bytes (the real server's rendering of the CT). */
      pngFile: string;
      etag: string;
    }
  | {
      kind: 'yoga';
      /** attribute(tag:) answers by tag argument, as the real server gave them. */
      byTag: Record<string, unknown>;
      /** attributes (all) as the real server gave it. */
      all: unknown[];
    };

export interface FloorProcess {
  readonly url: string;
  readonly child: Child;
  stop(): Promise<void>;
}

const ENTRY = join(fileURLToPath(new URL('.', import.meta.url)), 'floor-server.ts');

/** Starts a floor process for `spec` (spec written under `workDir`). */
export async function startFloor(spec: FloorSpec, workDir: string): Promise<FloorProcess> {
  const specFile = join(workDir, `floor-${spec.kind}.json`);
  writeFileSync(specFile, JSON.stringify(spec));
  const child = spawnChild(`${spec.kind} floor`, process.execPath, ['--import', 'tsx', ENTRY, specFile], { ...process.env, NODE_ENV: 'production' });
  const match = await waitForLine(child, /LISTENING (\d+)/);
  return { url: `http://127.0.0.1:${match[1]}`, child, stop: () => child.stop() };
}
