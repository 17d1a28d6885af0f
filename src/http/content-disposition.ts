/**
 * Content-Disposition for a download (RFC 6266): `filename` with an ASCII-only fallback and
 * `filename*` with the exact name, UTF-8 and percent-encoded (RFC 8187, formerly 5987). The name
 * is the last segment of the stored name (an upload's name, or an archive entry's path, is metadata
 * and may hold directories): never a path.
 */

/** RFC 8187 attr-char: ALPHA / DIGIT / "!" "#" "$" "&" "+" "-" "." "^" "_" "`" "|" "~". */
function encodeExtValue(s: string): string {
  return encodeURIComponent(s).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The file name part of a stored name: after the last "/" or "\", control characters dropped. */
export function downloadName(stored: string, fallback: string): string {
  const base = (stored.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return base === '' || base === '.' || base === '..' ? fallback : base;
}

/** `attachment; filename="…"; filename*=UTF-8''…` */
export function contentDisposition(name: string, type: 'attachment' | 'inline' = 'attachment'): string {
  // The quoted fallback: printable ASCII, without the quote, backslash and percent sign (some
  // agents percent-decode it).
  const ascii = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${type}; filename="${ascii}"; filename*=UTF-8''${encodeExtValue(name)}`;
}
