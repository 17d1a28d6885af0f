/**
 * Locates the shared DICOM test corpus (DICOM_CORPUS, else ../shared/dicom-corpus beside the
 * project). Suites that need it call `corpusOrSkip()`: without the corpus they are skipped with a
 * clear message, except under CI=true, where a missing corpus is an error.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ManifestElement {
  vr: string;
  Value?: unknown[];
}

export interface ManifestEntry {
  path: string;
  sha256: string;
  size: number;
  hasPreamble: boolean;
  hasFileMeta: boolean;
  transferSyntaxUID: string | null;
  dcmtkEncoding?: string;
  sopClassUID: string | null;
  photometricInterpretation: string | null;
  rows: number | null;
  columns: number | null;
  hasPixelData: boolean;
  numberOfFrames: number | null;
  bitsAllocated: number | null;
  bitsStored: number | null;
  pixelRepresentation: number | null;
  samplesPerPixel: number | null;
  planarConfiguration: number | null;
  specificCharacterSet: string[] | null;
  attributes: Record<string, ManifestElement | null>;
  nonAsciiAttributes?: Record<string, ManifestElement>;
  crossCheck?: unknown;
  referenceRender: null | {
    png: string | null;
    reason?: string;
    frame: number;
    voi?: string;
    width?: number;
    height?: number;
    colorType?: string;
    assumptions?: unknown;
  };
  notes: unknown[];
}

export interface Manifest {
  attributeTags: Record<string, string>;
  files: ManifestEntry[];
}

export interface Corpus {
  root: string;
  manifest: Manifest;
  file(path: string): string;
  read(path: string): Buffer;
}

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function findCorpus(): Corpus | undefined {
  const root = process.env.DICOM_CORPUS
    ? resolve(process.env.DICOM_CORPUS)
    : join(projectRoot, '..', 'shared', 'dicom-corpus');
  const manifestPath = join(root, 'manifest.json');
  if (!existsSync(manifestPath)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  return {
    root,
    manifest,
    file: (p) => join(root, p),
    read: (p) => readFileSync(join(root, p)),
  };
}

/**
 * The corpus, or undefined after logging why its suite is skipped. Throws when CI=true, because
 * CI always has the corpus and a silently skipped suite would hide regressions.
 */
export function corpusOrSkip(suite: string): Corpus | undefined {
  const corpus = findCorpus();
  if (corpus) return corpus;
  const where = process.env.DICOM_CORPUS ?? join(projectRoot, '..', 'shared', 'dicom-corpus');
  if (process.env.CI === 'true') {
    throw new Error(`${suite}: DICOM corpus not found at ${where} (set DICOM_CORPUS); CI must run the corpus suites`);
  }
  console.warn(`[corpus] ${suite} SKIPPED: no DICOM corpus at ${where} (set DICOM_CORPUS to run it)`);
  return undefined;
}
