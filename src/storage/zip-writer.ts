/**
 * ZIP archives of stored files, streamed (yazl): each entry is read from its blob only when the
 * archive reaches it, so memory stays flat whatever the study's size. Entries are STORED, not
 * deflated: DICOM pixel data is often compressed already, a 2-core server spends no CPU on it,
 * and every size is known up front, so the archive's exact length is known before the first byte
 * (Content-Length, progress bars). ZIP64 is used when needed (over 4 GiB or 65535 entries).
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { ZipFile } from 'yazl';

export interface ZipSource {
  /** Path inside the archive (already sanitized: see safeSegment). */
  readonly name: string;
  /** The blob's path on disk and its size in bytes. */
  readonly path: string;
  readonly size: number;
  readonly mtime: Date;
}

export interface ZipStream {
  /** The archive's bytes. */
  readonly stream: Readable;
  /** Exact length of the archive in bytes. */
  readonly length: number;
  /** Stops reading (client gone): closes the blob being read. */
  abort(): void;
}

/** Streams a ZIP of `sources`, in order. */
export function zipStream(sources: readonly ZipSource[]): ZipStream {
  const zip = new ZipFile();
  let current: Readable | undefined;
  for (const s of sources) {
    zip.addReadStreamLazy(s.name, { size: s.size, compress: false, mtime: s.mtime, mode: 0o100644 }, (cb) => {
      current = createReadStream(s.path);
      // yazl listens for no error on streams it is given: a blob that vanished (deleted meanwhile)
      // must fail the archive, not the process.
      current.once('error', (err) => zip.emit('error', err));
      cb(null, current);
    });
  }
  let length = -1;
  // (@types/yazl omits the callback's argument: the total size, or -1 when it cannot be known)
  const onTotal = ((total: number) => {
    length = total;
  }) as unknown as () => void;
  zip.end({ forceZip64Format: false, comment: '' }, onTotal);
  // Every size is known, so yazl computes the total synchronously in end().
  if (length < 0) throw new Error('ZIP length unknown');
  const stream = zip.outputStream as unknown as Readable;
  zip.on('error', (err: Error) => stream.destroy(err));
  return {
    stream,
    length,
    abort: () => {
      current?.destroy();
      stream.destroy();
    },
  };
}

/**
 * One path segment safe in every unzip tool and file system: letters, digits, space and ". _ - ( ) +"
 * kept (Unicode letters too), anything else (separators, "..", control and reserved characters)
 * becomes "_"; no leading or trailing dots or spaces; at most `max` characters; `fallback` when
 * nothing is left.
 */
export function safeSegment(text: string | number | null | undefined, fallback: string, max = 64): string {
  const s = String(text ?? '')
    .normalize('NFC')
    .replace(/[^\p{L}\p{N} ._()+-]/gu, '_')
    .replace(/_+/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[\s._]+|[\s._]+$/g, '')
    .slice(0, max)
    .replace(/[\s.]+$/g, '');
  return s === '' ? fallback : s;
}

/** Makes names unique within one archive: "x.dcm", "x-2.dcm", "x-3.dcm"… */
export class UniqueNames {
  private readonly used = new Set<string>();
  take(name: string): string {
    let candidate = name;
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 && !name.slice(dot).includes('/') ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    for (let n = 2; this.used.has(candidate.toLowerCase()); n++) candidate = `${stem}-${n}${ext}`;
    this.used.add(candidate.toLowerCase());
    return candidate;
  }
}
