/** Request targets parsed once per distinct string (src/http/request-targets.ts) and the image route's reading of them. */
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, NotFoundError } from '../../src/errors.js';
import { parsePngRequest } from '../../src/http/png-route.js';
import { MAX_KEPT_TARGET_LENGTH, RequestTargets } from '../../src/http/request-targets.js';

describe('RequestTargets', () => {
  it('parses a target once: the same string gives the same parsed URL and route', () => {
    const routed: string[] = [];
    const targets = new RequestTargets((path) => {
      routed.push(path);
      return path.endsWith('.png') ? 'png' : 'other';
    });
    const a = targets.get('/files/abc/frames/1.png?center=40&width=400');
    expect(a?.url.pathname).toBe('/files/abc/frames/1.png');
    expect(a?.url.searchParams.get('center')).toBe('40');
    expect(a?.route).toBe('png');
    expect(targets.get('/files/abc/frames/1.png?center=40&width=400')).toBe(a);
    // Another query is another target.
    expect(targets.get('/files/abc/frames/1.png?center=41&width=400')).not.toBe(a);
    expect(routed).toEqual(['/files/abc/frames/1.png', '/files/abc/frames/1.png']);
  });

  it('keeps at most maxTargets, dropping the oldest', () => {
    const targets = new RequestTargets(() => 'other', 3);
    const first = targets.get('/a');
    targets.get('/b');
    targets.get('/c');
    targets.get('/d');
    expect(targets.size).toBe(3);
    expect(targets.get('/a')).not.toBe(first); // parsed anew
    expect(targets.get('/a')?.url.pathname).toBe('/a');
  });

  it('parses a target longer than MAX_KEPT_TARGET_LENGTH every time, keeping nothing', () => {
    const targets = new RequestTargets(() => 'graphql');
    const long = `/graphql?query=${'x'.repeat(MAX_KEPT_TARGET_LENGTH)}`;
    const a = targets.get(long);
    expect(a?.url.pathname).toBe('/graphql');
    expect(targets.get(long)).not.toBe(a);
    expect(targets.size).toBe(0);
  });

  it('gives undefined for a target that is not a URL path, and keeps nothing for it', () => {
    const targets = new RequestTargets(() => 'other');
    expect(targets.get('http://[bad')).toBeUndefined();
    expect(targets.size).toBe(0);
  });
});

describe('parsePngRequest', () => {
  it('reads the file id, frame and query of an image URL', () => {
    const url = new URL('/files/f-1/frames/3.png?center=-600&width=1500&maxSize=256&bitDepth=16', 'http://localhost');
    expect(parsePngRequest(url)).toMatchObject({ id: 'f-1', frame: 3, query: { window: { center: -600, width: 1500 }, maxSize: 256, bitDepth: 16 } });
  });

  it('throws for a path that is not an image and for malformed arguments (never kept on the target)', () => {
    expect(() => parsePngRequest(new URL('/files/f-1/frames/x.png', 'http://localhost'))).toThrow(NotFoundError);
    expect(() => parsePngRequest(new URL('/files/f-1/frames/1.png?center=abc&width=1', 'http://localhost'))).toThrow(InvalidArgumentError);
  });
});
