/** The startup check (src/storage/repair.ts): temp files, orphan blobs, rows without blob, counters. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CatalogMaintenance } from '../../src/storage/catalog.js';
import { openDatabase } from '../../src/storage/db.js';
import { LocalBlobStore } from '../../src/storage/local-blob-store.js';
import { logRepairReport, repairDataDir } from '../../src/storage/repair.js';
import { syntheticImage } from '../helpers/fixtures.js';
import { startTestServer } from '../helpers/server.js';

const dir = mkdtempSync(join(tmpdir(), 'dicomql-repair-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
/** The storage id inside a GraphQL global id ("DicomFile:<uuid>", base64). */
const rowId = (globalId: string) => Buffer.from(globalId, 'base64').toString('utf8').replace(/^DicomFile:/, '');
const blobPath = (s: string) => join(dir, 'blobs', s.slice(0, 2), s.slice(2, 4), s);

describe('startup check', () => {
  it('removes temp files and orphan blobs, reports rows without blob, repairs counters, then finds nothing', async () => {
    // Two stored files.
    const server = await startTestServer({}, dir);
    const a = syntheticImage({ sopInstanceUid: '1.2.3.900.1', patientName: 'REPAIR^A' });
    const b = syntheticImage({ sopInstanceUid: '1.2.3.900.2', patientName: 'REPAIR^B' });
    const ids: string[] = [];
    for (const [name, bytes] of [['a.dcm', a], ['b.dcm', b]] as const) {
      const res = await server.upload({ name, bytes });
      ids.push(res.body.data.uploadDicom.file.id as string);
    }
    expect(server.app.startupRepair.tempFilesRemoved).toBe(0);
    await server.stop({ keepData: true });

    // What a crash (or outside interference) can leave behind.
    writeFileSync(join(dir, 'tmp', 'cut-off.part'), 'partial');
    writeFileSync(join(dir, 'tmp', 'cut-off.zip'), 'partial');
    const orphan = Buffer.from('a blob whose row was never written');
    const orphanSha = sha(orphan);
    mkdirSync(join(dir, 'blobs', orphanSha.slice(0, 2), orphanSha.slice(2, 4)), { recursive: true });
    writeFileSync(blobPath(orphanSha), orphan);
    rmSync(blobPath(sha(b))); // a row without blob: never from a crash, only from outside
    const database = openDatabase(dir);
    database.db.$client.prepare('UPDATE series SET instance_count = instance_count + 5').run();
    expect(new CatalogMaintenance(database.db).checkConsistency()).not.toEqual([]);
    database.close();

    const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
    {
      const restarted = await startTestServer({ LOG_LEVEL: 'warn' }, dir, { logDestination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
      const report = restarted.app.startupRepair;
      expect(report).toMatchObject({
        tempFilesRemoved: 2,
        orphanBlobsRemoved: 1,
        orphanBlobPrefixes: [orphanSha.slice(0, 12)],
        rowsWithoutBlob: [rowId(ids[1]!)],
        rowsWithoutBlobCount: 1,
        catalogProblems: [],
      });
      expect(report.counterRepairs).toBeGreaterThan(0);
      expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
      expect(existsSync(blobPath(orphanSha))).toBe(false);
      expect(existsSync(blobPath(sha(a)))).toBe(true);
      // The row without blob is kept (not deleted silently), and said so loudly.
      const kept = await restarted.gql(`{ dicomFile(id: "${ids[1]}") { id sha256 } }`);
      expect(kept.body.data.dicomFile).toEqual({ id: ids[1], sha256: sha(b) });
      // pino levels: 40 warn, 50 error
      const warnings = lines.filter((l) => l.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ msg: 'startup check repaired the data directory', repair: { orphanBlobsRemoved: 1 } });
      expect(JSON.stringify(lines)).not.toContain('REPAIR^');
      expect(lines.some((l) => l.level === 50 && JSON.stringify(l).includes(rowId(ids[1]!)))).toBe(true);
      await restarted.stop({ keepData: true });

      // Once repaired, a clean start finds only the row it must not delete.
      const database2 = openDatabase(dir);
      const again = await repairDataDir({ dataDir: dir, blobs: new LocalBlobStore(dir), db: database2.db, catalog: new CatalogMaintenance(database2.db) });
      database2.close();
      expect(again).toMatchObject({ tempFilesRemoved: 0, orphanBlobsRemoved: 0, rowsWithoutBlobCount: 1, counterRepairs: 0, catalogProblems: [] });
    }
  });

  it('finds rows whose whole blob folder is missing, and logs nothing when all is well', async () => {
    const own = mkdtempSync(join(tmpdir(), 'dicomql-repair2-'));
    try {
      const server = await startTestServer({}, own);
      const bytes = syntheticImage({ sopInstanceUid: '1.2.3.901.1' });
      const id = (await server.upload({ name: 'c.dcm', bytes })).body.data.uploadDicom.file.id as string;
      await server.stop({ keepData: true });
      const database = openDatabase(own);
      const catalog = new CatalogMaintenance(database.db);
      const clean = await repairDataDir({ dataDir: own, blobs: new LocalBlobStore(own), db: database.db, catalog });
      const log = { warn: vi.fn(), error: vi.fn() };
      logRepairReport(clean, log);
      expect(log.warn).not.toHaveBeenCalled();
      expect(log.error).not.toHaveBeenCalled();
      rmSync(join(own, 'blobs', sha(bytes).slice(0, 2)), { recursive: true });
      const report = await repairDataDir({ dataDir: own, blobs: new LocalBlobStore(own), db: database.db, catalog });
      database.close();
      expect(report.rowsWithoutBlob).toEqual([rowId(id)]);
      logRepairReport(report, log);
      expect(log.error).toHaveBeenCalledTimes(1);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });
});
