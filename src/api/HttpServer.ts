import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import { describeListenError } from '../util/listenError.js';
import type { ControlApi } from './ControlApi.js';

export interface HealthReport {
  status: 'ok';
  meetings: number;
  legs: number;
}

export interface HttpServerOptions {
  bindAddress: string;
  port: number;
  logger: Logger;
  health: () => HealthReport;
  /** The REST control API, mounted under its base path. */
  api?: ControlApi;
}

/**
 * The control plane's HTTP listener: the health probe that load balancers
 * and orchestration poll, and the REST control API under /conference/v1.
 */
export class HttpServer {
  private constructor(
    private readonly server: Server,
    private readonly logger: Logger,
    private readonly api: ControlApi | undefined,
  ) {}

  static async listen(options: HttpServerOptions): Promise<HttpServer> {
    const server = createServer((request, response) => handle(request, response, options));
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', (err) => options.logger.debug({ err }, 'upgrade socket error'));
      const { path, query } = splitUrl(request.url ?? '/');
      if (options.api?.owns(path)) options.api.handleUpgrade(request, socket, head, path, query);
      else socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(describeListenError(err, 'HTTP', 'TCP', options.bindAddress, options.port)));
      server.listen(options.port, options.bindAddress, () => resolve());
    });
    server.on('error', (err) => options.logger.error({ err }, 'HTTP server error'));
    return new HttpServer(server, options.logger, options.api);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    // Upgraded (WebSocket) connections are no longer the HTTP server's to close.
    this.api?.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.logger.debug('HTTP server closed');
  }
}

function handle(request: IncomingMessage, response: ServerResponse, options: HttpServerOptions): void {
  const { path, query } = splitUrl(request.url ?? '/');
  if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
    sendJson(response, 200, options.health());
    return;
  }
  if (path === '/metrics' && options.api && (request.method === 'GET' || request.method === 'HEAD')) {
    options.api.handleMetrics(request, response).catch((err: unknown) => options.logger.error({ err }, 'metrics failed'));
    return;
  }
  if (options.api?.owns(path)) {
    options.api.handle(request, response, path, query).catch((err: unknown) => {
      options.logger.error({ err }, 'API handler failed');
      if (!response.headersSent) sendJson(response, 500, { message: 'internal server error', errors: [] });
    });
    return;
  }
  sendJson(response, 404, { message: 'not found', errors: [{ field: 'path', message: `no resource at ${path}`, reference_sid: null }] });
}

function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const question = url.indexOf('?');
  return { path: question < 0 ? url : url.slice(0, question), query: new URLSearchParams(question < 0 ? '' : url.slice(question + 1)) };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
