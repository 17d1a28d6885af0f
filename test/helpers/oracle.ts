/**
 * The corpus manifest's comparison rules (../shared/dicom-corpus/README.md, manifest.json
 * `conventions.comparison`), shared by the unit-level corpus suite (test/corpus/attributes.test.ts)
 * and the end-to-end one (test/e2e/corpus.test.ts):
 *
 * - numbers compare numerically (DS "40", 40 and 40.0 are equal);
 * - trailing '^' component delimiters in each PN group, and trailing spaces (or NUL padding), are
 *   not significant ("DOE^JOHN^^^" equals "DOE^JOHN");
 * - `null` (or a missing element) means absent; an element without `Value` is present but empty.
 */
import type { ManifestElement } from './corpus.js';

/**
 * Transfer syntaxes whose pixel data is not compressed (implicit/explicit VR little endian,
 * explicit VR big endian, deflated), plus `null`: a file without file meta (a bare data set).
 * The ≥ 98 % match rate is computed over files with these, or without pixel data.
 */
export const UNCOMPRESSED_TRANSFER_SYNTAXES: ReadonlySet<string | null> = new Set([
  null,
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.2',
  '1.2.840.10008.1.2.1.99',
]);

const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/**
 * One value of a DICOM JSON `Value` array in comparable form: numeric strings become numbers,
 * trailing whitespace/NUL is dropped, and a PN object keeps only its non-empty groups with trailing
 * '^' and spaces removed.
 */
export function normalizeValue(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const t = v.replace(/[\s\0]+$/, '');
    return t.trim() !== '' && NUMBER.test(t) ? Number(t) : t;
  }
  if (typeof v === 'object') {
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const group = String(x).replace(/\s+$/, '').replace(/\^+$/, '').replace(/\s+$/, '');
      if (group !== '') out[k] = group;
    }
    return out;
  }
  return v;
}

/**
 * A canonical string for an element (`vr` and normalized `Value`): two elements are equal under
 * the manifest's rules exactly when their comparable forms are equal. "absent" for null/undefined.
 */
export function comparable(e: ManifestElement | null | undefined): string {
  if (!e) return 'absent';
  return JSON.stringify({ vr: e.vr, Value: (e.Value ?? []).map(normalizeValue) });
}

/** Outcome of comparing one element with the manifest. */
export interface ElementComparison {
  ok: boolean;
  got: string;
  expected: string;
}

/** Compares an element (null = absent) with the manifest's expectation (null/undefined = absent). */
export function compareElement(got: ManifestElement | null | undefined, expected: ManifestElement | null | undefined): ElementComparison {
  const g = comparable(got);
  const e = comparable(expected);
  return { ok: g === e, got: g, expected: e };
}

/**
 * The manifest form of an attribute as the GraphQL API returns it (`DicomAttribute { vr value }`,
 * or null when absent). A null `value` (binary VRs, sequences, no value) compares as empty.
 */
export function fromApiAttribute(attr: { vr: string; value?: unknown } | null | undefined): ManifestElement | null {
  if (!attr) return null;
  return { vr: attr.vr, Value: Array.isArray(attr.value) ? attr.value : [] };
}

/**
 * Whether two single values are equal under the manifest's rules (for indexed scalar fields such
 * as `DicomFile.modality`): an empty string counts as absent, like the index stores it.
 */
export function sameValue(got: unknown, expected: unknown): boolean {
  const norm = (x: unknown): unknown => {
    const n = normalizeValue(x);
    return n === '' ? null : n;
  };
  return JSON.stringify(norm(got)) === JSON.stringify(norm(expected));
}
