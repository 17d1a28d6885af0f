/**
 * Parsed headers of stored files, kept for the next request. Files are content-addressed and
 * immutable, so an entry never goes stale. The cache is an LRU bounded by entry count and by the
 * header bytes its entries were parsed from (a header can hold large binary elements, such as an
 * encapsulated PDF). A parse in flight is shared by concurrent requests for the same file.
 */
import { LRUCache } from 'lru-cache';
import { BufferByteSource } from '../dicom/byte-source.js';
import { type DicomHeader, parseHeader } from '../dicom/header.js';
import type { BlobStore } from './blob-store.js';

export interface HeaderLocation {
  readonly sha256: string;
  /** Bytes [0, headerEnd) hold every element before Pixel Data. */
  readonly headerEnd: number;
}

export class HeaderCache {
  private readonly cache: LRUCache<string, Promise<DicomHeader>> | undefined;
  private hits = 0;
  private misses = 0;

  constructor(
    private readonly blobs: BlobStore,
    limits: { readonly maxEntries: number; readonly maxBytes: number },
  ) {
    this.cache = limits.maxEntries > 0 && limits.maxBytes > 0 ? new LRUCache({ max: limits.maxEntries, maxSize: limits.maxBytes }) : undefined;
  }

  get(file: HeaderLocation): Promise<DicomHeader> {
    const hit = this.cache?.get(file.sha256);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const loading = this.load(file);
    // Headers larger than the whole budget are parsed for this request and not kept.
    this.cache?.set(file.sha256, loading, { size: Math.max(1, file.headerEnd) });
    loading.catch(() => this.cache?.delete(file.sha256));
    return loading;
  }

  /** Counters for monitoring: answered from memory, read and parsed. */
  stats(): { hits: number; misses: number } {
    return { hits: this.hits, misses: this.misses };
  }

  /** Forgets a file's parsed header (its file was deleted: nothing of it stays in memory). */
  evict(sha256: string): void {
    this.cache?.delete(sha256);
  }

  /** Reads only the header prefix: never the pixel data, whatever the file's size. */
  private async load(file: HeaderLocation): Promise<DicomHeader> {
    const prefix = await this.blobs.readPrefix(file.sha256, file.headerEnd);
    return parseHeader(new BufferByteSource(prefix));
  }
}
