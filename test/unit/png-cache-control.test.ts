import { describe, expect, it } from 'vitest';
import { pngCacheControl } from '../../src/http/png-route.js';

describe('pngCacheControl', () => {
  const now = 1_800_000_000_000;
  it('a year immutable / a minute without a signed URL expiry', () => {
    expect(pngCacheControl(true, undefined, now)).toBe('private, max-age=31536000, immutable');
    expect(pngCacheControl(false, undefined, now)).toBe('private, max-age=60');
  });

  it('never outlives the signed URL (whole seconds left, rounded down, never negative)', () => {
    expect(pngCacheControl(true, now + 3_600_999, now)).toBe('private, max-age=3600, immutable');
    expect(pngCacheControl(false, now + 3_600_000, now)).toBe('private, max-age=60');
    expect(pngCacheControl(false, now + 30_500, now)).toBe('private, max-age=30');
    expect(pngCacheControl(true, now + 999, now)).toBe('private, max-age=0, immutable');
    expect(pngCacheControl(true, now - 5000, now)).toBe('private, max-age=0, immutable');
    expect(pngCacheControl(true, now + 2 * 31_536_000_000, now)).toBe('private, max-age=31536000, immutable');
  });
});
