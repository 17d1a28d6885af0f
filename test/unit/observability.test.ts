import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { RateLimiter } from '../../src/http/rate-limit.js';
import type { IncomingMessage } from 'node:http';
import { serializeError } from '../../src/observability/logger.js';
import { Metrics } from '../../src/observability/metrics.js';
import { newRequestId, requestContextOf, startRequestContext } from '../../src/observability/request-context.js';

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

describe('request ids and contexts', () => {
  const request = (headers: Record<string, string> = {}) => ({ headers }) as unknown as IncomingMessage;

  it('generates UUID-shaped ids, all distinct, from one process prefix and a counter', () => {
    const ids = Array.from({ length: 100_000 }, () => newRequestId());
    for (const id of [ids[0]!, ids[99_999]!]) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[1]!.slice(0, 24)).toBe(ids[0]!.slice(0, 24));
    expect(parseInt(ids[1]!.slice(24), 16)).toBe(parseInt(ids[0]!.slice(24), 16) + 1);
  });

  it('keeps a sane client x-request-id, replaces an odd one, and gives each request its own context', () => {
    const a = request({ 'x-request-id': 'trace-1.2:3_x' });
    const b = request({ 'x-request-id': 'a b' });
    const c = request();
    expect(startRequestContext(a).id).toBe('trace-1.2:3_x');
    expect(startRequestContext(b).id).toMatch(/^[0-9a-f-]{36}$/);
    const context = startRequestContext(c);
    expect(requestContextOf(c)).toBe(context);
    expect(requestContextOf(a)?.id).toBe('trace-1.2:3_x');
    expect(requestContextOf(request())).toBeUndefined();
    expect(requestContextOf(undefined)).toBeUndefined();
    expect(context).toMatchObject({ route: 'other', path: '/', principal: undefined, urlExpiresAt: undefined });
  });
});

describe('Metrics.request', () => {
  it('counts requests by route, method and status and observes their duration by route (label sets reused)', async () => {
    const metrics = new Metrics(() => ({ pool: { renders: 0, timeouts: 0, queued: 0, workers: 0 }, cache: { hits: 0, misses: 0, shared: 0, bytes: 0, entries: 0 } }) as never);
    metrics.request('png', 'GET', 304, 0.002);
    metrics.request('png', 'GET', 304, 0.02);
    metrics.request('png', 'GET', 200, 0.2);
    metrics.request('graphql', 'POST', 200, 0.001);
    const text = await metrics.registry.metrics();
    const line = (prefix: string) => text.split('\n').find((l) => l.startsWith(prefix));
    expect(line('dicomql_http_requests_total{route="png",method="GET",status="304"}')).toMatch(/ 2$/);
    expect(line('dicomql_http_requests_total{route="png",method="GET",status="200"}')).toMatch(/ 1$/);
    expect(line('dicomql_http_requests_total{route="graphql",method="POST",status="200"}')).toMatch(/ 1$/);
    expect(line('dicomql_http_request_duration_seconds_count{route="png"}')).toMatch(/ 3$/);
    expect(line('dicomql_http_request_duration_seconds_bucket{le="0.005",route="png"}')).toMatch(/ 1$/);
    expect(line('dicomql_http_request_duration_seconds_bucket{le="0.025",route="png"}')).toMatch(/ 2$/);
    expect(Number(line('dicomql_http_request_duration_seconds_sum{route="png"}')!.split(' ')[1])).toBeCloseTo(0.222, 6);
    expect(line('dicomql_http_request_duration_seconds_count{route="graphql"}')).toMatch(/ 1$/);
  });

  it('counts GraphQL operations by name, type and result, odd names as other (label sets reused)', async () => {
    const metrics = new Metrics(() => ({ pool: { renders: 0, timeouts: 0, queued: 0, workers: 0 }, cache: { hits: 0, misses: 0, shared: 0, bytes: 0, entries: 0 } }) as never);
    metrics.operation('ReadName', 'query', true);
    metrics.operation('ReadName', 'query', true);
    metrics.operation('ReadName', 'query', false);
    metrics.operation(undefined, undefined, true);
    metrics.operation('not a name!', 'mutation', true);
    const text = await metrics.registry.metrics();
    const line = (prefix: string) => text.split('\n').find((l) => l.startsWith(prefix));
    expect(line('dicomql_graphql_operations_total{operation_name="ReadName",operation_type="query",result="success"}')).toMatch(/ 2$/);
    expect(line('dicomql_graphql_operations_total{operation_name="ReadName",operation_type="query",result="error"}')).toMatch(/ 1$/);
    expect(line('dicomql_graphql_operations_total{operation_name="anonymous",operation_type="unknown",result="success"}')).toMatch(/ 1$/);
    expect(line('dicomql_graphql_operations_total{operation_name="other",operation_type="mutation",result="success"}')).toMatch(/ 1$/);
  });
});
