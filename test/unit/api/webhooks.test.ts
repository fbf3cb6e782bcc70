/**
 * Webhook delivery against a real local HTTP receiver: signatures check
 * out, a full queue drops its oldest waiting events (never the one in
 * flight), failures are retried then given up, a plain 4xx is not retried,
 * and publishing never waits for the receiver.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { BridgeEvent, EventListener, EventScope } from '../../../src/events/EventFeed.js';
import { CallbackUrlPolicy } from '../../../src/events/CallbackUrlPolicy.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookDispatcher, webhookSignature } from '../../../src/events/WebhookDispatcher.js';
import { createRootLogger } from '../../../src/log.js';
import { waitFor } from '../../support/wait.js';

class Publisher {
  private readonly listeners = new Set<EventListener>();
  seq = 0;
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  publish(subscriberSid: string | null = null): void {
    const event: BridgeEvent = { seq: ++this.seq, timestamp: Date.now(), event: 'lock', meetingNumber: 1000, meetingId: 1 };
    const scope: EventScope = { meetingNumber: 1000, subscriberSid };
    for (const l of this.listeners) l(event, scope);
  }
}

interface Received {
  path: string;
  seq: number;
  signed: boolean;
}

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** `answer` gets the number of posts to this path so far (this one included). */
async function receiver(answer: (n: number, path: string) => number): Promise<{ url: string; got: Received[] }> {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const ts = String(req.headers[TIMESTAMP_HEADER]);
      got.push({ path: req.url ?? '', seq: JSON.parse(body).seq, signed: req.headers[SIGNATURE_HEADER] === webhookSignature('s'.repeat(16), ts, body) });
      res.statusCode = answer(got.filter((g) => g.path === req.url).length, req.url ?? '');
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, got };
}

/** The receivers listen on loopback, which callbacks may not reach by default. */
const LOOPBACK_ALLOWED = new CallbackUrlPolicy({ allowedNetworks: ['127.0.0.1/32'] });

function dispatcher(
  publisher: Publisher,
  targets: Array<{ sid: string; role: 'administrator' | 'user'; url: string }>,
  options: { maxQueue?: number; maxAttempts?: number; timeoutMs?: number },
) {
  const d = new WebhookDispatcher({
    feed: publisher,
    targets: () => targets.map((t) => ({ ...t, secret: 's'.repeat(16) })),
    logger: createRootLogger('silent'),
    policy: LOOPBACK_ALLOWED,
    baseDelayMs: 20,
    ...options,
  });
  cleanups.push(() => d.close());
  return d;
}

describe('WebhookDispatcher', () => {
  it('bounds the queue of a failing receiver, keeps the post in flight, retries and gives up', async () => {
    const { url, got } = await receiver(() => 503);
    const publisher = new Publisher();
    const d = dispatcher(publisher, [{ sid: 'a', role: 'administrator', url: `${url}/hook` }], { maxQueue: 5, maxAttempts: 2 });
    for (let i = 0; i < 20; i++) publisher.publish();
    expect(d.stats()).toMatchObject({ queued: 5, dropped: 15 });
    await waitFor(() => d.stats().givenUp === 5, 10_000, 'every queued event given up');
    expect(got.map((g) => g.seq)).toEqual([1, 1, 17, 17, 18, 18, 19, 19, 20, 20]);
    expect(got.every((g) => g.signed && g.path === '/hook')).toBe(true);
    expect(d.stats()).toMatchObject({ delivered: 0, failedAttempts: 10, queued: 0 });
  });

  it('delivers in order after a retry, does not retry a 4xx, and shows users only their rooms', async () => {
    const { url, got } = await receiver((n, path) => (path === '/bad' ? 400 : path === '/ok' && n === 1 ? 500 : 204));
    const publisher = new Publisher();
    const d = dispatcher(
      publisher,
      [
        { sid: 'a', role: 'administrator', url: `${url}/ok` },
        { sid: 'u', role: 'user', url: `${url}/user` },
        { sid: 'b', role: 'administrator', url: `${url}/bad` },
      ],
      {},
    );
    publisher.publish(); // room of nobody: not for the user
    publisher.publish('u'); // the user's room
    publisher.publish();
    await waitFor(() => d.stats().queued === 0, 10_000, 'all delivered');
    const ok = got.filter((g) => g.path === '/ok').map((g) => g.seq);
    const user = got.filter((g) => g.path === '/user').map((g) => g.seq);
    const bad = got.filter((g) => g.path === '/bad').map((g) => g.seq);
    // The first post to /ok (seq 1) got a 500 and was retried before seq 2 went out.
    expect(ok).toEqual([1, 1, 2, 3]);
    expect(user).toEqual([2]);
    expect(bad).toEqual([1, 2, 3]);
    expect(got.every((g) => g.signed)).toBe(true);
    expect(d.stats()).toMatchObject({ givenUp: 3, dropped: 0 });
  });

  it('gives up on a receiver that never answers, after its timeout, without holding up publishing', async () => {
    const server: Server = createServer(() => undefined); // reads the request, never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/silent`;
    const publisher = new Publisher();
    const d = dispatcher(publisher, [{ sid: 'a', role: 'administrator', url }], { maxAttempts: 2, timeoutMs: 150 });
    for (let i = 0; i < 3; i++) publisher.publish();
    // Publishing returned at once with everything queued.
    expect(d.stats()).toMatchObject({ queued: 3, delivered: 0 });
    await waitFor(() => d.stats().givenUp === 3, 10_000, 'all three given up after their timeouts');
    expect(d.stats()).toMatchObject({ failedAttempts: 6, queued: 0 });
  });

  it('stops posting to a callback that was removed', async () => {
    const { url, got } = await receiver(() => 503);
    const publisher = new Publisher();
    const targets = [{ sid: 'a', role: 'administrator' as const, url: `${url}/gone` }];
    const d = new WebhookDispatcher({
      feed: publisher,
      targets: () => targets.map((t) => ({ ...t, secret: 's'.repeat(16) })),
      logger: createRootLogger('silent'),
      policy: LOOPBACK_ALLOWED,
      baseDelayMs: 100,
      targetsTtlMs: 0,
    });
    cleanups.push(() => d.close());
    publisher.publish();
    publisher.publish();
    await waitFor(() => got.length === 1, 5000, 'the first failed post');
    targets.length = 0; // the subscriber removed its callback
    await waitFor(() => d.stats().queued === 0, 5000, 'the queue dropped');
    expect(d.stats()).toMatchObject({ dropped: 2, delivered: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toHaveLength(1);
  });

  it('posts to a name through the address its check resolved, and drops events whose name resolves to a refused address', async () => {
    const { url, got } = await receiver(() => 200);
    const port = new URL(url).port;
    // Names only this resolver knows: reaching the receiver proves the post used the checked address, not a second lookup.
    const answers: Record<string, string[]> = {
      'hooks.test': ['127.0.0.1'],
      'mixed.test': ['127.0.0.1', '10.1.2.3'],
      'metadata.test': ['169.254.169.254'],
    };
    const lookup = async (host: string) => (answers[host] ?? []).map((address) => ({ address, family: 4 }));
    const policy = new CallbackUrlPolicy({ allowedNetworks: ['127.0.0.1/32'], lookup });
    const publisher = new Publisher();
    const targets = [
      { sid: 'ok', role: 'administrator' as const, url: `http://hooks.test:${port}/ok` },
      { sid: 'mixed', role: 'administrator' as const, url: `http://mixed.test:${port}/mixed` },
      { sid: 'meta', role: 'administrator' as const, url: `http://metadata.test:${port}/meta` },
      { sid: 'literal', role: 'administrator' as const, url: `http://[::ffff:10.0.0.1]:${port}/literal` },
    ];
    const d = new WebhookDispatcher({
      feed: publisher,
      targets: () => targets.map((t) => ({ ...t, secret: 's'.repeat(16) })),
      logger: createRootLogger('silent'),
      policy,
      baseDelayMs: 20,
    });
    cleanups.push(() => d.close());
    publisher.publish();
    publisher.publish();
    await waitFor(() => got.length === 2 && d.stats().refused === 6, 5000, 'two posts and six refusals');
    expect(got.map((g) => [g.path, g.seq, g.signed])).toEqual([['/ok', 1, true], ['/ok', 2, true]]);
    expect(d.stats()).toMatchObject({ delivered: 2, refused: 6, failedAttempts: 0, queued: 0 });
  });
});
