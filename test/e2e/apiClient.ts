/**
 * A raw HTTP client for the API end-to-end tests. It uses node:http rather
 * than fetch so that paths are sent exactly as written (fetch would
 * normalize `..` away) and any header or body can be sent.
 */
import { request as httpRequest } from 'node:http';
import { WebSocket } from 'ws';

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body's bytes (downloads). */
  raw: Buffer;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export interface RequestOptions {
  auth?: [string, string] | null;
  body?: unknown;
  /** Sent as-is instead of JSON-encoding `body`. */
  rawBody?: string | Buffer;
  contentType?: string | null;
  headers?: Record<string, string>;
}

export function apiClient(port: number, defaultAuth: [string, string]) {
  return function call(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const auth = options.auth === undefined ? defaultAuth : options.auth;
    const headers: Record<string, string> = { ...options.headers };
    if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}`;
    let payload: Buffer | undefined;
    if (options.rawBody !== undefined) payload = Buffer.from(options.rawBody);
    else if (options.body !== undefined) payload = Buffer.from(JSON.stringify(options.body));
    if (payload) {
      headers['Content-Length'] = String(payload.length);
      if (options.contentType !== null) headers['Content-Type'] = options.contentType ?? 'application/json';
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          const text = raw.toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, raw, json });
        });
      });
      // A server that refuses an oversize body may close the socket before reading it all.
      req.on('error', reject);
      if (payload) req.end(payload);
      else req.end();
    });
  };
}

/** One WebSocket event feed connection: every message received, parsed, in arrival order. */
export interface FeedConnection {
  socket: WebSocket;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  events: any[];
  closed: boolean;
}

/**
 * Opens an event feed (`path` below the server root) with Basic
 * credentials; resolves once the server accepted it, or rejects with the
 * refused upgrade's status and body.
 */
export function openFeed(port: number, path: string, auth: [string, string] | null): Promise<FeedConnection> {
  const headers: Record<string, string> = {};
  if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}`;
  const socket = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
  const feed: FeedConnection = { socket, events: [], closed: false };
  socket.on('message', (data) => feed.events.push(JSON.parse(String(data))));
  socket.on('close', () => (feed.closed = true));
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve(feed));
    socket.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(new FeedRefused(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'))));
    });
    socket.once('error', (err) => reject(err));
  });
}

export class FeedRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`feed refused with ${status}: ${body}`);
  }
}
