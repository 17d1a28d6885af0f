/**
 * Rendered PNGs kept in memory: an LRU bounded by PNG bytes (PNG_CACHE_BYTES), keyed by content
 * hash + frame + every rendering parameter, so an entry never goes stale (stored files never
 * change). Concurrent requests for the same key share one render; when every request waiting for
 * a render has gone (clients disconnected), the render is cancelled.
 */
import { LRUCache } from 'lru-cache';
import type { RenderedPng } from './render-task.js';

interface Flight {
  readonly promise: Promise<RenderedPng>;
  readonly abort: AbortController;
  waiters: number;
}

export interface PngCacheStats {
  /** Answered from the cache. */
  readonly hits: number;
  /** Joined a render already in progress for the same key. */
  readonly shared: number;
  /** Renders started. */
  readonly misses: number;
  readonly entries: number;
  readonly bytes: number;
}

export class PngCache {
  private readonly cache: LRUCache<string, RenderedPng> | undefined;
  private readonly inFlight = new Map<string, Flight>();
  private hits = 0;
  private shared = 0;
  private misses = 0;

  constructor(maxBytes: number) {
    this.cache = maxBytes > 0 ? new LRUCache({ maxSize: maxBytes, sizeCalculation: (png) => Math.max(1, png.png.length) }) : undefined;
  }

  /**
   * The cached PNG for `key`, else the one being rendered for it, else `render(signal)`'s result
   * (stored when it succeeds). `signal` is this caller's: when it aborts, the caller stops waiting
   * (AbortError) and, if no one else waits, the render's signal aborts too.
   */
  async get(key: string, render: (signal: AbortSignal) => Promise<RenderedPng>, signal?: AbortSignal): Promise<RenderedPng> {
    const hit = this.cache?.get(key);
    if (hit) {
      this.hits++;
      return hit;
    }
    signal?.throwIfAborted();
    let flight = this.inFlight.get(key);
    if (flight) this.shared++;
    else {
      this.misses++;
      const abort = new AbortController();
      const promise = render(abort.signal).then((png) => {
        this.cache?.set(key, png);
        return png;
      });
      flight = { promise, abort, waiters: 0 };
      this.inFlight.set(key, flight);
      promise.then(
        () => this.inFlight.delete(key),
        () => this.inFlight.delete(key),
      );
    }
    return this.wait(flight, signal);
  }

  private wait(flight: Flight, signal: AbortSignal | undefined): Promise<RenderedPng> {
    flight.waiters++;
    if (!signal) return flight.promise.finally(() => flight.waiters--);
    return new Promise<RenderedPng>((resolve, reject) => {
      let waiting = true;
      const stop = () => {
        if (!waiting) return false;
        waiting = false;
        flight.waiters--;
        signal.removeEventListener('abort', leave);
        return true;
      };
      const leave = () => {
        if (!stop()) return;
        if (flight.waiters === 0) flight.abort.abort(signal.reason);
        reject(signal.reason);
      };
      signal.addEventListener('abort', leave, { once: true });
      flight.promise.then(
        (png) => stop() && resolve(png),
        (err: unknown) => stop() && reject(err),
      );
    });
  }

  /**
   * Drops every rendering of the content whose key starts with `keyPrefix` (renderingTag() keys
   * start with the content hash): its file was deleted, nothing of it stays in memory.
   */
  evict(keyPrefix: string): number {
    if (!this.cache) return 0;
    let n = 0;
    for (const key of [...this.cache.keys()]) {
      if (key.startsWith(keyPrefix)) {
        this.cache.delete(key);
        n++;
      }
    }
    return n;
  }

  stats(): PngCacheStats {
    return { hits: this.hits, shared: this.shared, misses: this.misses, entries: this.cache?.size ?? 0, bytes: this.cache?.calculatedSize ?? 0 };
  }
}
