/**
 * Cuts a TCP byte stream into SIP messages by Content-Length (RFC 3261
 * 18.3). Handles several messages in one segment, one message over several
 * segments, and RFC 5626 CRLF keep-alives between messages.
 */
import { canonicalName } from './rawMessage.js';

export type FramingError =
  | { kind: 'oversize'; head: string | undefined }
  | { kind: 'bad-content-length'; head: string };

export interface FramerEvents {
  message(data: Buffer): void;
  /** A double CRLF keep-alive arrived; answer it with a single CRLF. */
  ping(): void;
  /** The stream cannot be framed any more; the connection must be closed. */
  error(err: FramingError): void;
}

const HEAD_END = Buffer.from('\r\n\r\n');

export class StreamFramer {
  private buffer: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(
    private readonly maxMessageBytes: number,
    private readonly events: FramerEvents,
  ) {}

  push(chunk: Buffer): void {
    if (this.failed) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.drain();
  }

  private drain(): void {
    for (;;) {
      // Keep-alives and stray line ends between messages.
      let crlfs = 0;
      while (this.buffer.length >= 2 && this.buffer[0] === 0x0d && this.buffer[1] === 0x0a) {
        this.buffer = this.buffer.subarray(2);
        crlfs++;
      }
      if (crlfs >= 2) this.events.ping();
      if (this.buffer.length === 0) return;
      if (this.buffer.length === 1 && this.buffer[0] === 0x0d) return;

      const headEnd = this.buffer.indexOf(HEAD_END);
      if (headEnd < 0) {
        if (this.buffer.length > this.maxMessageBytes) {
          this.fail({ kind: 'oversize', head: undefined });
        }
        return;
      }
      const head = this.buffer.subarray(0, headEnd).toString('utf8');
      let length = 0;
      for (const line of head.split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        if (canonicalName(line.slice(0, colon)) !== 'content-length') continue;
        const value = line.slice(colon + 1).trim();
        if (!/^\d{1,10}$/.test(value)) {
          this.fail({ kind: 'bad-content-length', head });
          return;
        }
        length = Number(value);
      }
      const total = headEnd + HEAD_END.length + length;
      if (total > this.maxMessageBytes) {
        this.fail({ kind: 'oversize', head });
        return;
      }
      if (this.buffer.length < total) return;
      const message = Buffer.from(this.buffer.subarray(0, total));
      this.buffer = this.buffer.subarray(total);
      this.events.message(message);
    }
  }

  private fail(err: FramingError): void {
    this.failed = true;
    this.buffer = Buffer.alloc(0);
    this.events.error(err);
  }
}
