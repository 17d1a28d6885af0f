import { describe, expect, it } from 'vitest';
import { PngCache } from '../../src/render/png-cache.js';
import type { RenderedPng } from '../../src/render/render-task.js';

const png = (n: number): RenderedPng => ({ png: Buffer.alloc(n, 1), width: 1, height: 1 });

/** A render that finishes when told to, and reports whether it was cancelled. */
function pending() {
  let finish!: (p: RenderedPng) => void;
  let signal!: AbortSignal;
  let calls = 0;
  const render = (s: AbortSignal) => {
    calls++;
    signal = s;
    return new Promise<RenderedPng>((resolve, reject) => {
      finish = resolve;
      s.addEventListener('abort', () => reject(s.reason));
    });
  };
  return { render, finish: (p: RenderedPng) => finish(p), cancelled: () => signal.aborted, calls: () => calls };
}

describe('PngCache', () => {
  it('keeps rendered PNGs up to its byte budget, least recently used out first', async () => {
    const cache = new PngCache(250);
    for (const key of ['a', 'b']) await cache.get(key, async () => png(100));
    await cache.get('a', async () => png(100)); // a is now the most recent
    await cache.get('c', async () => png(100)); // evicts b
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 3, entries: 2, bytes: 200 });
    let rendered = false;
    await cache.get('b', async () => ((rendered = true), png(100)));
    expect(rendered).toBe(true);
  });

  it('with a budget of 0 keeps nothing but still shares renders in progress', async () => {
    const cache = new PngCache(0);
    const r = pending();
    const both = Promise.all([cache.get('k', r.render), cache.get('k', r.render)]);
    r.finish(png(10));
    const [x, y] = await both;
    expect(x).toBe(y);
    expect(r.calls()).toBe(1);
    expect(cache.stats()).toMatchObject({ shared: 1, misses: 1, entries: 0 });
  });

  it('cancels a render when every waiting caller has gone, not while one still waits', async () => {
    const cache = new PngCache(1000);
    const r = pending();
    const a = new AbortController();
    const b = new AbortController();
    const first = cache.get('k', r.render, a.signal);
    const second = cache.get('k', r.render, b.signal);
    a.abort(new Error('a left'));
    await expect(first).rejects.toThrow('a left');
    expect(r.cancelled()).toBe(false);
    b.abort(new Error('b left'));
    await expect(second).rejects.toThrow('b left');
    expect(r.cancelled()).toBe(true);
    // nothing cached, nothing in flight: the next request renders again
    const again = pending();
    const third = cache.get('k', again.render);
    again.finish(png(5));
    expect((await third).png.length).toBe(5);
  });

  it('does not cache a failed render', async () => {
    const cache = new PngCache(1000);
    await expect(cache.get('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect((await cache.get('k', async () => png(3))).png.length).toBe(3);
  });
});
