/**
 * SIP over TLS (RFC 3261 26.3.1): the TCP transport's connections, framing
 * and call pinning over TLS sockets. The certificate and key are PEM text
 * (SipServer reads the files, so a bad path fails at start-up with its name).
 */
import type net from 'node:net';
import tls from 'node:tls';
import type { Destination } from './SipTransportBase.js';
import { TcpTransport, type TcpTransportOptions } from './TcpTransport.js';

export interface TlsTransportOptions extends TcpTransportOptions {
  certificate: string;
  privateKey: string;
}

export class TlsTransport extends TcpTransport {
  override readonly protocol = 'TLS' as const;
  override readonly name = 'tls' as const;
  private readonly credentials: { cert: string; key: string };
  private readonly secureContext: tls.SecureContext;

  /** Throws (with the reason) when the certificate or key is not usable. */
  constructor(options: TlsTransportOptions) {
    super(options, 'tls');
    this.credentials = { cert: options.certificate, key: options.privateKey };
    this.secureContext = tls.createSecureContext(this.credentials);
  }

  protected override createServer(onSocket: (socket: net.Socket) => void): net.Server {
    const server = tls.createServer(this.credentials, onSocket);
    // A failed handshake is the client's problem, not a server error.
    server.on('tlsClientError', (err, socket) => {
      this.log.debug({ err, remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'TLS handshake failed');
    });
    return server;
  }

  /** Outgoing connections verify the peer's certificate against the system's CAs. */
  protected override openSocket(dest: Destination): { socket: net.Socket; readyEvent: string } {
    return { socket: tls.connect({ host: dest.host, port: dest.port, secureContext: this.secureContext }), readyEvent: 'secureConnect' };
  }
}
