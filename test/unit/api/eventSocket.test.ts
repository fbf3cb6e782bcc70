/**
 * The WebSocket feed's back-pressure rule over real sockets: a client that
 * stops reading is disconnected once its unsent backlog passes the limit,
 * while a client that reads keeps receiving every event in order, and
 * publishing never waits for either.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { Authenticator } from '../../../src/api/auth.js';
import { EventSocket } from '../../../src/api/EventSocket.js';
import { hashPassword } from '../../../src/api/passwords.js';
import type { BridgeEvent, EventListener, EventScope } from '../../../src/events/EventFeed.js';
import { createRootLogger } from '../../../src/log.js';
import { SqliteStore } from '../../../src/store/SqliteStore.js';
import { waitFor } from '../../support/wait.js';

/** Publishes events to whoever subscribed, as the EventFeed does. */
class Publisher {
  private readonly listeners = new Set<EventListener>();
  private seq = 0;
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  publish(padding: string): void {
    const event: BridgeEvent = { seq: ++this.seq, timestamp: Date.now(), event: 'start-talking', meetingNumber: 1000, meetingId: 1, data: { padding } };
    const scope: EventScope = { meetingNumber: 1000, subscriberSid: null };
    for (const l of this.listeners) l(event, scope);
  }
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(maxBufferedBytes: number, replayEvents?: number) {
  const store = SqliteStore.open(':memory:');
  store.createSubscriber({ login: 'admin', passwordHash: await hashPassword('password1'), role: 'administrator' });
  const auth = new Authenticator(store);
  const publisher = new Publisher();
  const events = new EventSocket({ feed: publisher, store, logger: createRootLogger('silent'), authenticate: (r) => auth.authenticate(r), maxBufferedBytes, replayEvents });
  const server: Server = createServer((_req, res) => res.end());
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    void events.upgrade(req, socket, head, ['events'], url.searchParams);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => store.close(), () => new Promise<void>((r) => server.close(() => r())), () => events.close());
  const port = (server.address() as AddressInfo).port;
  /** Connects; `seqs` collects from the first message (replays can arrive with the handshake). */
  const connect = async (query = '', seqs: number[] = []): Promise<WebSocket> => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/conference/v1/events${query}`, { headers: { Authorization: `Basic ${Buffer.from('admin:password1').toString('base64')}` } });
    ws.on('message', (data) => seqs.push(JSON.parse(String(data)).seq));
    cleanups.push(() => ws.terminate());
    await new Promise((resolve, reject) => {
      ws.once('open', resolve).once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`status ${res.statusCode}`)));
    });
    return ws;
  };
  return { publisher, events, connect };
}

describe('EventSocket back-pressure', () => {
  it('drops a client that stops reading and keeps serving one that reads', async () => {
    const { publisher, events, connect } = await setup(256 * 1024);
    const received: number[] = [];
    await connect('', received);
    const stalled = await connect();
    let stalledClosed = false;
    stalled.on('close', () => (stalledClosed = true));
    stalled.on('error', () => undefined);
    // The stalled client's socket stops reading: the kernel buffers fill, then the server's backlog grows.
    const stalledSocket = (stalled as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    stalledSocket.pause();
    await waitFor(() => events.clientCount === 2, 2000, 'both clients registered');

    const padding = 'x'.repeat(1000);
    const total = 40_000;
    for (let i = 0; i < total; i++) {
      publisher.publish(padding);
      // Let the event loop flush between batches, as real events arrive spread out.
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
      if (events.clientCount === 1 && i > 1000) break;
    }
    expect(events.clientCount).toBe(1);
    // Reading again, the stalled client finds its connection cut (after what was already in flight).
    stalledSocket.resume();
    await waitFor(() => stalledClosed, 10_000, 'the stalled client to see the connection closed');

    // The reader gets everything published, in order.
    const last = (publisher as unknown as { seq: number }).seq;
    await waitFor(() => received.length === last, 20_000, `the reader to get all ${last} events`);
    expect(received).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  });

  it('replays what a reconnecting client missed (?since=), then goes on live, and says when it cannot', async () => {
    const { publisher, connect } = await setup(1024 * 1024, 5);
    for (let i = 0; i < 4; i++) publisher.publish('');
    const seqs: number[] = [];
    await connect('?since=2', seqs);
    publisher.publish('');
    await waitFor(() => seqs.length === 3, 2000, 'the replay and the live event');
    expect(seqs).toEqual([3, 4, 5]);
    for (let i = 0; i < 5; i++) publisher.publish(''); // 6..10: only 6..10 are kept now
    await expect(connect('?since=4')).rejects.toThrow('status 410');
    await expect(connect('?since=11')).rejects.toThrow('status 400');
    await expect(connect('?since=-1')).rejects.toThrow('status 400');
    const got: number[] = [];
    await connect('?since=5', got);
    await waitFor(() => got.length === 5, 2000, 'the kept events');
    expect(got).toEqual([6, 7, 8, 9, 10]);
  });
});
