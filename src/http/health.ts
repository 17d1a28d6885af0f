import { statfs } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** Why writes can no longer be acknowledged (a WAL fsync failed): only a restart clears it. */
const NOT_DURABLE = 'a write-ahead log fsync failed: writes can no longer be made durable; restart the server';

/**
 * GET /healthz (liveness): the process serves requests and its database was migrated before
 * listening; 503 once a WAL fsync has failed (`writesFailed`), the one state only a restart clears.
 */
export function sendHealth(res: ServerResponse, writesFailed: () => boolean = () => false): void {
  if (writesFailed()) sendJson(res, 503, { status: 'fail', reason: NOT_DURABLE });
  else sendJson(res, 200, { status: 'ok' });
}

export interface ReadinessChecks {
  /** Runs a trivial query; throws when the database does not answer. */
  readonly pingDatabase: () => void;
  readonly dataDir: string;
  readonly minFreeDiskBytes: number;
  /** True once a WAL fsync has failed (src/storage/wal-sync.ts). */
  readonly writesFailed: () => boolean;
}

type CheckResult = { status: 'ok' } | { status: 'fail'; reason: string };

/**
 * GET /readyz (readiness): 200 when the database answers, DATA_DIR has at least
 * MIN_FREE_DISK_BYTES free and writes can still be made durable, else 503 naming the failed
 * check. Details carry no paths or data.
 */
export async function sendReadiness(res: ServerResponse, checks: ReadinessChecks): Promise<void> {
  let database: CheckResult;
  try {
    checks.pingDatabase();
    database = { status: 'ok' };
  } catch (err) {
    database = { status: 'fail', reason: err instanceof Error ? err.constructor.name : 'error' };
  }
  let disk: CheckResult & { freeBytes?: number; minFreeBytes: number };
  try {
    const stats = await statfs(checks.dataDir);
    const freeBytes = Number(stats.bavail) * Number(stats.bsize);
    disk =
      freeBytes >= checks.minFreeDiskBytes
        ? { status: 'ok', freeBytes, minFreeBytes: checks.minFreeDiskBytes }
        : { status: 'fail', reason: 'low free disk space', freeBytes, minFreeBytes: checks.minFreeDiskBytes };
  } catch (err) {
    disk = { status: 'fail', reason: (err as { code?: string }).code ?? 'statfs failed', minFreeBytes: checks.minFreeDiskBytes };
  }
  const durability: CheckResult = checks.writesFailed() ? { status: 'fail', reason: NOT_DURABLE } : { status: 'ok' };
  const ready = database.status === 'ok' && disk.status === 'ok' && durability.status === 'ok';
  sendJson(res, ready ? 200 : 503, { status: ready ? 'ok' : 'fail', checks: { database, disk, durability } });
}
