import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { RateLimiter } from '../../src/http/rate-limit.js';
import { serializeError } from '../../src/observability/logger.js';

describe('serializeError', () => {
  class InvalidThing extends Error {
    code = 'INVALID_THING';
  }
  const err = new InvalidThing('file 1.2.826.0.1.4242 of Doe^Jane is bad', { cause: new Error('Doe^Jane again') });

  it('keeps class, code and stack frames but no message without LOG_PATIENT_DATA', () => {
    const s = serializeError(err, false);
    expect(s).toMatchObject({ type: 'InvalidThing', code: 'INVALID_THING', cause: { type: 'Error' } });
    expect(s.stack).toMatch(/^\s+at /);
    expect(JSON.stringify(s)).not.toMatch(/Doe|1\.2\.826/);
  });

  it('keeps the message and full stack with LOG_PATIENT_DATA', () => {
    const s = serializeError(err, true);
    expect(s.message).toContain('Doe^Jane');
    expect(s.cause?.message).toBe('Doe^Jane again');
  });

  it('describes a thrown non-error by its type only', () => {
    expect(serializeError('Doe^Jane', false)).toEqual({ type: 'string' });
  });
});

describe('RateLimiter', () => {
  it('allows a burst, then refills at the per-minute rate, per client', () => {
    let now = 0;
    const limiter = new RateLimiter({ perMinute: 60, burst: 2, now: () => now });
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(limiter.take('b').allowed).toBe(true);
    now += 1000;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
    now += 10_000;
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(true);
    expect(limiter.take('a').allowed).toBe(false);
  });

  it('computes Retry-After from the refill rate', () => {
    const limiter = new RateLimiter({ perMinute: 2, burst: 1, now: () => 0 });
    limiter.take('a');
    expect(limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 30 });
  });
});

describe('observability and limit settings', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({})).toMatchObject({
      logLevel: 'info',
      logPatientData: false,
      minFreeDiskBytes: 1024 ** 3,
      rateLimitPerMinute: 600,
      rateLimitBurst: 200,
      corsOrigins: [],
      graphqlMaxDepth: 15,
      graphqlMaxAliases: 200,
      graphqlMaxCost: 0,
      graphqlMaxTokens: 5000,
      graphqlMaxDirectives: 50,
      graphqlFieldSuggestions: false,
    });
  });

  it('reads them', () => {
    const c = loadConfig({
      LOG_LEVEL: 'DEBUG',
      LOG_PATIENT_DATA: 'true',
      CORS_ORIGINS: 'https://a.example, http://localhost:5173/',
      RATE_LIMIT_PER_MINUTE: '0',
      GRAPHQL_FIELD_SUGGESTIONS: '1',
    });
    expect(c).toMatchObject({ logLevel: 'debug', logPatientData: true, rateLimitPerMinute: 0, graphqlFieldSuggestions: true });
    expect(c.corsOrigins).toEqual(['https://a.example', 'http://localhost:5173']);
    expect(loadConfig({ CORS_ORIGINS: '*' }).corsOrigins).toEqual(['*']);
  });

  it.each([
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL must be one of/],
    [{ LOG_PATIENT_DATA: 'yes' }, /LOG_PATIENT_DATA must be true or false/],
    [{ CORS_ORIGINS: 'example.org' }, /CORS_ORIGINS entries must be origins/],
    [{ CORS_ORIGINS: 'https://a.example/path' }, /CORS_ORIGINS entries must be origins/],
    [{ RATE_LIMIT_BURST: '0' }, /RATE_LIMIT_BURST must be between 1/],
    [{ MIN_FREE_DISK_BYTES: '1GB' }, /MIN_FREE_DISK_BYTES must be a whole number/],
  ])('rejects %j', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
