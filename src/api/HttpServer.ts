import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import { describeListenError } from '../util/listenError.js';

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
}

/**
 * The control plane's HTTP listener. For now it serves the health probe that
 * load balancers and orchestration poll; the REST API and event feed mount
 * here as they land.
 */
export class HttpServer {
  private constructor(
    private readonly server: Server,
    private readonly logger: Logger,
  ) {}

  static async listen(options: HttpServerOptions): Promise<HttpServer> {
    const server = createServer((request, response) => handle(request, response, options));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(describeListenError(err, 'HTTP', 'TCP', options.bindAddress, options.port)));
      server.listen(options.port, options.bindAddress, () => resolve());
    });
    server.on('error', (err) => options.logger.error({ err }, 'HTTP server error'));
    return new HttpServer(server, options.logger);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.logger.debug('HTTP server closed');
  }
}

function handle(request: IncomingMessage, response: ServerResponse, options: HttpServerOptions): void {
  const path = (request.url ?? '/').split('?')[0];
  if (path === '/healthz' && (request.method === 'GET' || request.method === 'HEAD')) {
    sendJson(response, 200, options.health());
    return;
  }
  sendJson(response, 404, { message: 'not found', errors: [{ field: 'path', message: `no resource at ${path}` }] });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
