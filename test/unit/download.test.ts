/** Content-Disposition (RFC 6266, RFC 8187) and byte ranges (RFC 9110 §14) of the download route. */
import { describe, expect, it } from 'vitest';
import { contentDisposition, downloadName } from '../../src/http/content-disposition.js';
import { parseRange } from '../../src/http/download-route.js';

describe('Content-Disposition', () => {
  it('gives an ASCII fallback and the exact UTF-8 name', () => {
    expect(contentDisposition('CT1.dcm')).toBe(`attachment; filename="CT1.dcm"; filename*=UTF-8''CT1.dcm`);
    expect(contentDisposition('Müller 100%.dcm')).toBe(`attachment; filename="Muller 100_.dcm"; filename*=UTF-8''M%C3%BCller%20100%25.dcm`);
    expect(contentDisposition(`a"b\\c'd(e).dcm`)).toBe(`attachment; filename="a_b_c'd(e).dcm"; filename*=UTF-8''a%22b%5Cc%27d%28e%29.dcm`);
    expect(contentDisposition('画像.dcm')).toMatch(/^attachment; filename="__\.dcm"; filename\*=UTF-8''%E7%94%BB%E5%83%8F\.dcm$/);
  });

  it('never sends a path', () => {
    expect(downloadName('../../etc/passwd', 'f.dcm')).toBe('passwd');
    expect(downloadName('C:\\scans\\IM1', 'f.dcm')).toBe('IM1');
    expect(downloadName('dir/', 'f.dcm')).toBe('f.dcm');
    expect(downloadName('..', 'f.dcm')).toBe('f.dcm');
    expect(downloadName('a\r\nSet-Cookie: x', 'f.dcm')).toBe('aSet-Cookie: x');
  });
});

describe('parseRange', () => {
  it.each([
    [undefined, null],
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=90-', { start: 90, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=-1000', { start: 0, end: 99 }],
    ['bytes=95-200', { start: 95, end: 99 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=9-3', 'unsatisfiable'],
    ['bytes=0-1,5-6', null],
    ['items=0-1', null],
  ])('%s of 100 bytes → %j', (header, expected) => {
    expect(parseRange(header, 100)).toEqual(expected);
  });
});
