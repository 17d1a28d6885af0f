import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 4000, host: '127.0.0.1', maxUploadBytes: 1024 ** 3, publicUrl: undefined });
    expect(c.dataDir).toBe(resolve('./data'));
    expect(Object.isFrozen(c)).toBe(true);
    expect(c).toMatchObject({ renderWorkers: availableParallelism(), renderTimeoutMs: 30_000, renderQueue: 1000, pngCacheBytes: 64 * 1024 ** 2 });
  });

  it('reads the batch and archive limits', () => {
    expect(loadConfig({})).toMatchObject({ maxFilesPerRequest: 1000, maxArchiveBytes: 8 * 1024 ** 3, maxZipRatio: 200 });
    expect(loadConfig({ MAX_FILES_PER_REQUEST: '5', MAX_ARCHIVE_BYTES: '1000', MAX_ZIP_RATIO: '50' })).toMatchObject({
      maxFilesPerRequest: 5,
      maxArchiveBytes: 1000,
      maxZipRatio: 50,
    });
    expect(() => loadConfig({ MAX_FILES_PER_REQUEST: '0' })).toThrow(/MAX_FILES_PER_REQUEST must be between 1/);
  });

  it('reads the GraphQL answer cache bound (32 MiB by default; 0 disables)', () => {
    expect(loadConfig({}).graphqlAnswerCacheBytes).toBe(32 * 1024 ** 2);
    expect(loadConfig({ GRAPHQL_ANSWER_CACHE_BYTES: '0' }).graphqlAnswerCacheBytes).toBe(0);
    expect(loadConfig({ GRAPHQL_ANSWER_CACHE_BYTES: '1000' }).graphqlAnswerCacheBytes).toBe(1000);
    expect(() => loadConfig({ GRAPHQL_ANSWER_CACHE_BYTES: '-1' })).toThrow(/GRAPHQL_ANSWER_CACHE_BYTES must be a whole number/);
  });

  it('reads the render settings', () => {
    const c = loadConfig({ RENDER_WORKERS: '3', RENDER_TIMEOUT_MS: '50', RENDER_QUEUE: '7', PNG_CACHE_BYTES: '0' });
    expect(c).toMatchObject({ renderWorkers: 3, renderTimeoutMs: 50, renderQueue: 7, pngCacheBytes: 0 });
  });

  it('reads every variable', () => {
    const c = loadConfig({ PORT: '8080', HOST: '0.0.0.0', AUTH: 'token', DATA_DIR: '/tmp/x', MAX_UPLOAD_BYTES: '1000', PUBLIC_URL: 'https://pacs.example.org/api/' });
    expect(c).toMatchObject({ port: 8080, host: '0.0.0.0', auth: 'token', dataDir: '/tmp/x', maxUploadBytes: 1000, publicUrl: 'https://pacs.example.org/api' });
  });

  it('defaults to local mode (AUTH=none) on a loopback HOST', () => {
    expect(loadConfig({}).auth).toBe('none');
    for (const HOST of ['127.0.0.1', '127.8.9.10', 'localhost', 'LOCALHOST', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) {
      expect(loadConfig({ HOST }).auth, HOST).toBe('none');
    }
    expect(loadConfig({ HOST: '127.0.0.1', AUTH: 'TOKEN' }).auth).toBe('token');
  });

  it('refuses a non-loopback HOST without AUTH=token, naming the fix', () => {
    for (const HOST of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', '128.0.0.1', 'pacs.example.org', '::ffff:10.0.0.1', '127.0.0.1.example.org']) {
      expect(() => loadConfig({ HOST }), HOST).toThrow(ConfigError);
      expect(() => loadConfig({ HOST, AUTH: 'none' }), HOST).toThrow(/AUTH=token.*npm run token -- create --user NAME/);
      expect(loadConfig({ HOST, AUTH: 'token' }).auth).toBe('token');
    }
  });

  it('reads the URL signing settings', () => {
    expect(loadConfig({})).toMatchObject({ urlSigningSecret: undefined, signedUrlTtlSeconds: 3600 });
    const secret = 'k'.repeat(32);
    expect(loadConfig({ URL_SIGNING_SECRET: secret, SIGNED_URL_TTL_SECONDS: '60' })).toMatchObject({ urlSigningSecret: secret, signedUrlTtlSeconds: 60 });
    expect(loadConfig({ URL_SIGNING_SECRET: '' }).urlSigningSecret).toBeUndefined();
  });

  it.each([
    [{ PORT: 'abc' }, /PORT must be a whole number/],
    [{ PORT: '70000' }, /PORT must be between 0 and 65535/],
    [{ PORT: '-1' }, /PORT must be a whole number/],
    [{ MAX_UPLOAD_BYTES: '0' }, /MAX_UPLOAD_BYTES must be between 1/],
    [{ MAX_UPLOAD_BYTES: '1e9' }, /MAX_UPLOAD_BYTES must be a whole number/],
    [{ PUBLIC_URL: 'not a url' }, /PUBLIC_URL must be an absolute http\(s\) URL/],
    [{ PUBLIC_URL: 'ftp://x' }, /PUBLIC_URL must use http or https/],
    [{ HOST: 'bad host!' }, /HOST is not a host name/],
    [{ RENDER_WORKERS: '0' }, /RENDER_WORKERS must be between 1 and 256/],
    [{ RENDER_TIMEOUT_MS: '1.5' }, /RENDER_TIMEOUT_MS must be a whole number/],
    [{ RENDER_QUEUE: '0' }, /RENDER_QUEUE must be between 1/],
    [{ PNG_CACHE_BYTES: '-1' }, /PNG_CACHE_BYTES must be a whole number/],
    [{ AUTH: 'password' }, /AUTH must be one of none, token/],
    [{ URL_SIGNING_SECRET: 'x'.repeat(31) }, /URL_SIGNING_SECRET must have at least 32 characters, got 31/],
    [{ SIGNED_URL_TTL_SECONDS: '0' }, /SIGNED_URL_TTL_SECONDS must be between 1 and 604800/],
    [{ SIGNED_URL_TTL_SECONDS: '604801' }, /SIGNED_URL_TTL_SECONDS must be between 1 and 604800/],
  ])('rejects %j with a clear message', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });
});
