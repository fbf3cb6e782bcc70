/**
 * The WebSocket event feed: `GET /conference/v1/events` (every event the
 * subscriber may see) and `/conference/v1/meetings/{meetingNumber}/events`
 * (one room's meetings), authenticated like the REST API. Each event goes
 * out as one JSON text message, in publication order. A client that reads
 * too slowly (its unsent backlog passes `maxBufferedBytes`) is cut off: the
 * server never waits for a consumer and never buffers without bound.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { EVENT_NAMES, type BridgeEvent, type EventListener, type EventScope } from '../events/EventFeed.js';
import type { Logger } from '../log.js';
import type { ConferenceStore } from '../store/StoreTypes.js';
import { ApiError, badRequest, detail, notFound } from './errors.js';
import type { Principal } from './router.js';
import { canSeeRoom } from './routes/configRoutes.js';

/** Where the events come from: the bridge's EventFeed. */
export interface EventSource {
  subscribe(listener: EventListener): () => void;
}

export interface EventSocketOptions {
  feed: EventSource;
  store: ConferenceStore;
  logger: Logger;
  /** Checks the request's credentials (throws ApiError 401/429/503). */
  authenticate: (request: IncomingMessage) => Promise<Principal>;
  /** A client whose unsent backlog grows past this is disconnected. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Ping interval; a client that missed the previous pong is dropped. Default 30 s. */
  heartbeatMs?: number;
  /** Recent events kept for `?since=` replays after a reconnect. Default 1000. */
  replayEvents?: number;
}

/** WebSocket close code 1008 (policy violation): used when a slow consumer is dropped. */
export const CLOSE_TOO_SLOW = 1008;

interface Client {
  socket: WebSocket;
  principal: Principal;
  /** Only this room's events, for the per-meeting feed. */
  meetingNumber: number | undefined;
  /** Only these event names (`?events=`); all when undefined. */
  names: ReadonlySet<string> | undefined;
  alive: boolean;
}

export class EventSocket {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  private readonly clients = new Set<Client>();
  private readonly unsubscribe: () => void;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly maxBuffered: number;
  /** The last events published, oldest first, for `?since=`. */
  private readonly recent: Array<{ event: BridgeEvent; scope: EventScope }> = [];
  private readonly replayEvents: number;
  /** The seq of the newest event seen (0 before any). */
  private lastSeq = 0;

  constructor(private readonly options: EventSocketOptions) {
    this.maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
    this.replayEvents = Math.max(0, options.replayEvents ?? 1000);
    this.unsubscribe = options.feed.subscribe((event, scope) => this.deliver(event, scope));
    this.heartbeat = setInterval(() => this.ping(), options.heartbeatMs ?? 30_000);
    this.heartbeat.unref();
  }

  /** The meeting number of a feed path: null for the global feed, undefined when the path is no feed. */
  static feedOf(segments: string[]): number | null | undefined {
    if (segments.length === 1 && segments[0] === 'events') return null;
    if (segments.length === 3 && segments[0] === 'meetings' && segments[2] === 'events') {
      if (!/^\d{1,15}$/.test(segments[1]!)) throw badRequest('meetingNumber', 'path parameter must be a non-negative integer');
      return Number(segments[1]);
    }
    return undefined;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /**
   * Accepts an upgrade for a feed path (already split into segments) after
   * checking credentials and, for a meeting feed, that the room exists and
   * is the subscriber's; any refusal is written as a plain HTTP answer in
   * seed 004's error shape.
   */
  async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, segments: string[], query: URLSearchParams): Promise<void> {
    try {
      const feed = EventSocket.feedOf(segments);
      if (feed === undefined) throw new ApiError(404, 'not found', [detail('path', 'no WebSocket feed here')]);
      const { names, since } = feedQuery(query);
      if (since !== undefined) this.checkReplayable(since);
      const principal = await this.options.authenticate(request);
      if (feed !== null) {
        const room = this.options.store.getMeetingRoom(feed);
        if (!room || !canSeeRoom(principal, room)) throw notFound('meeting room');
      }
      if (socket.destroyed) return;
      // Checked again after the (asynchronous) password check: events may have moved on meanwhile.
      if (since !== undefined) this.checkReplayable(since);
      this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, principal, feed ?? undefined, names, since));
    } catch (err) {
      const apiError =
        err instanceof ApiError ? err : new ApiError(500, 'internal server error', [detail(null, 'the server failed to open the feed')]);
      if (!(err instanceof ApiError)) this.options.logger.error({ err }, 'event feed upgrade failed');
      refuseUpgrade(socket, apiError);
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    for (const client of this.clients) client.socket.terminate();
    this.clients.clear();
    this.wss.close();
  }

  /** 410 when events after `since` are no longer all kept (the client must re-read state over REST). */
  private checkReplayable(since: number): void {
    if (since > this.lastSeq) throw badRequest('since', `is ahead of the newest event (${this.lastSeq})`);
    const oldest = this.recent[0]?.event.seq ?? this.lastSeq + 1;
    if (since < oldest - 1) {
      throw new ApiError(410, 'gone', [detail('since', `events after ${since} are no longer kept (oldest kept: ${oldest}); re-read the state over REST`)]);
    }
  }

  private accept(
    socket: WebSocket,
    principal: Principal,
    meetingNumber: number | undefined,
    names: ReadonlySet<string> | undefined,
    since: number | undefined,
  ): void {
    const client: Client = { socket, principal, meetingNumber, names, alive: true };
    this.clients.add(client);
    // Replayed before any new event can be delivered (both run on this thread), so nothing is missed or doubled.
    if (since !== undefined) {
      for (const { event, scope } of this.recent) if (event.seq > since) this.sendTo(client, event, scope, JSON.stringify(event));
    }
    this.options.logger.info({ login: principal.login, meetingNumber, clients: this.clients.size }, 'event feed client connected');
    socket.on('pong', () => (client.alive = true));
    // The feed is one-way; what a client sends is ignored (ws enforces maxPayload).
    socket.on('error', (err) => this.options.logger.debug({ err, login: principal.login }, 'event feed socket error'));
    socket.on('close', () => {
      this.clients.delete(client);
      this.options.logger.info({ login: principal.login, meetingNumber, clients: this.clients.size }, 'event feed client gone');
    });
  }

  private deliver(event: BridgeEvent, scope: EventScope): void {
    this.lastSeq = event.seq;
    if (this.replayEvents > 0) {
      this.recent.push({ event, scope });
      if (this.recent.length > this.replayEvents) this.recent.shift();
    }
    const text = JSON.stringify(event);
    for (const client of this.clients) this.sendTo(client, event, scope, text);
  }

  private sendTo(client: Client, event: BridgeEvent, scope: EventScope, text: string): void {
    if (client.meetingNumber !== undefined && client.meetingNumber !== scope.meetingNumber) return;
    if (client.names && !client.names.has(event.event)) return;
    if (client.principal.role === 'user' && scope.subscriberSid !== client.principal.sid) return;
    const socket = client.socket;
    if (socket.readyState !== WebSocket.OPEN) return;
    if (socket.bufferedAmount > this.maxBuffered) {
      this.drop(client, 'too slow');
      return;
    }
    socket.send(text);
  }

  private drop(client: Client, reason: string): void {
    this.options.logger.warn(
      { login: client.principal.login, meetingNumber: client.meetingNumber, buffered: client.socket.bufferedAmount, reason },
      'event feed client dropped',
    );
    this.clients.delete(client);
    // terminate(), not close(): a close frame would queue behind the backlog the client is not reading.
    client.socket.terminate();
  }

  private ping(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        this.drop(client, 'no pong');
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }
}

/** The feeds in the OpenAPI document: GET with a WebSocket upgrade. */
export function feedOpenApiPaths(base: string): Record<string, unknown> {
  const operation = (summary: string, operationId: string, meeting: boolean) => ({
    get: {
      summary,
      description: 'WebSocket upgrade (HTTP Basic on the upgrade request). Each message is one event: {seq, timestamp, event, meetingNumber, meetingId, participant_id?, call_id?, caller_id_number?, data?}.',
      tags: ['Events'],
      operationId,
      'x-roles': ['administrator', 'operator', 'user'],
      'x-websocket': true,
      parameters: [
        ...(meeting ? [{ name: 'meetingNumber', in: 'path', required: true, schema: { type: 'integer', minimum: 0 } }] : []),
        { name: 'events', in: 'query', description: 'Comma-separated event names to receive (default all)', schema: { type: 'string' }, 'x-enum': EVENT_NAMES },
        { name: 'since', in: 'query', description: 'The last seq received: replay the kept events after it first', schema: { type: 'integer', minimum: 0 } },
      ],
      responses: {
        '101': { description: 'Switching to the WebSocket feed' },
        '400': { description: 'Bad path or query' },
        '401': { description: 'Authentication required or bad credentials' },
        ...(meeting ? { '404': { description: 'No such meeting room (or not yours)' } } : {}),
        '410': { description: 'Events after `since` are no longer kept' },
      },
    },
  });
  return {
    [`${base}/events`]: operation('Live events of every meeting you may see', 'getEvents', false),
    [`${base}/meetings/{meetingNumber}/events`]: operation("Live events of one room's meetings", 'getMeetingEvents', true),
  };
}

/**
 * The feed's query: `events`, a comma-separated list of event names (default
 * all), and `since`, the last seq the client saw (replay what came after).
 */
function feedQuery(query: URLSearchParams): { names: ReadonlySet<string> | undefined; since: number | undefined } {
  for (const key of query.keys()) {
    if (key !== 'events' && key !== 'since') throw badRequest(key, 'unknown query parameter (the event feed takes "events" and "since")');
    if (query.getAll(key).length > 1) throw badRequest(key, 'give it once');
  }
  let names: Set<string> | undefined;
  const list = query.get('events');
  if (list !== null) {
    names = new Set(list.split(',').map((n) => n.trim()));
    const unknown = [...names].filter((n) => !(EVENT_NAMES as readonly string[]).includes(n));
    if (unknown.length > 0) throw badRequest('events', `unknown event names: ${unknown.slice(0, 5).map((n) => JSON.stringify(n.slice(0, 40))).join(', ')}`);
  }
  const sinceText = query.get('since');
  if (sinceText !== null && !/^\d{1,15}$/.test(sinceText)) throw badRequest('since', 'must be a non-negative integer (a seq)');
  return { names, since: sinceText === null ? undefined : Number(sinceText) };
}

/** Answers a refused upgrade as plain HTTP in seed 004's error shape, then closes the socket. */
export function refuseUpgrade(socket: Duplex, error: ApiError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(error.body);
  const reason = STATUS_CODES[error.status] ?? 'Error';
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(body)),
    Connection: 'close',
    ...error.headers,
  };
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${error.status} ${reason}\r\n${head}\r\n${body}`);
}
