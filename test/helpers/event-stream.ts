/** A GraphQL subscription over server-sent events, read the way a browser client would. */
import { expect } from 'vitest';
import type { TestServer } from './server.js';

export interface EventStream {
  /** The next `n` data payloads (each `{ data: … }`), or a timeout error. */
  take(n: number, timeoutMs?: number): Promise<any[]>;
  /** Payloads received so far and not yet taken. */
  pending(): any[];
  close(): void;
}

/** Starts a subscription over server-sent events and resolves once the server has answered. */
export async function subscribe(
  server: Pick<TestServer, 'url'>,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<EventStream> {
  const abort = new AbortController();
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: abort.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const queue: any[] = [];
  const waiters: (() => void)[] = [];
  let firstChunk!: () => void;
  const started = new Promise<void>((resolve) => {
    firstChunk = resolve;
  });
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        firstChunk();
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data:'))
            .map((l) => l.slice(5).trim())
            .join('\n');
          if (data) queue.push(JSON.parse(data));
          waiters.splice(0).forEach((w) => w());
        }
      }
    } catch {
      // aborted
    }
  })();
  await started; // yoga's first ping: the subscription is being set up
  await new Promise((r) => setTimeout(r, 150));
  return {
    async take(n, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for ${n} events; got ${JSON.stringify(queue)}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, left);
        });
      }
      return queue.splice(0, n);
    },
    pending: () => [...queue],
    close: () => abort.abort(),
  };
}
