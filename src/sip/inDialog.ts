/**
 * In-dialog request handling shared by InboundCall and OutboundCall:
 * INFO (DTMF), re-INVITE offer/answer, BYE, and the DialogCall base class
 * (ending once, listener-safe emits, guarded SIP.js callbacks).
 */
import { EventEmitter } from 'node:events';
import type { Body, IncomingInfoRequest, IncomingInviteRequest, IncomingRequestMessage, Session } from 'sip.js/lib/core/index.js';
import type { Logger } from '../log.js';
import { renegotiateAudio, sameDescription } from './sdp/negotiate.js';
import type { InfoDtmf } from './SipTypes.js';

export function sdpBody(sdp: string): Body {
  return { contentDisposition: 'session', contentType: 'application/sdp', content: sdp };
}

export function contentType(message: IncomingRequestMessage): string {
  return (message.getHeader('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

const DTMF_EVENTS = '0123456789*#ABCD';

/** Normalise a DTMF signal as INFO bodies write it ("5", "*", "10" for *, "11" for #, "a"…). */
export function normaliseDtmfSignal(raw: string): string | undefined {
  const s = raw.trim().toUpperCase();
  if (s.length === 1 && DTMF_EVENTS.includes(s)) return s;
  if (/^\d{1,2}$/.test(s)) {
    const n = Number(s);
    if (n >= 0 && n <= 15) return DTMF_EVENTS[n];
  }
  return undefined;
}

/** Parse an INFO body carrying DTMF; undefined when it does not. */
export function parseInfoDtmf(type: string, body: string): InfoDtmf | undefined {
  if (type === 'application/dtmf-relay') {
    let digit: string | undefined;
    let durationMs = 160;
    for (const line of body.split(/\r?\n/)) {
      const m = /^\s*([A-Za-z]+)\s*=\s*(\S+)\s*$/.exec(line);
      if (!m) continue;
      const name = m[1]!.toLowerCase();
      if (name === 'signal') digit = normaliseDtmfSignal(m[2]!);
      else if (name === 'duration' && /^\d+$/.test(m[2]!)) durationMs = Number(m[2]);
    }
    return digit === undefined ? undefined : { digit, durationMs };
  }
  if (type === 'application/dtmf') {
    const digit = normaliseDtmfSignal(body);
    return digit === undefined ? undefined : { digit, durationMs: 250 };
  }
  return undefined;
}

/** Answer an INFO with 200 and return the DTMF it carried, if any. */
export function answerInfo(req: IncomingInfoRequest, log: Logger): InfoDtmf | undefined {
  const type = contentType(req.message);
  const body = req.message.body ?? '';
  req.accept();
  const dtmf = parseInfoDtmf(type, body);
  if (dtmf) log.debug({ digit: dtmf.digit, durationMs: dtmf.durationMs }, 'INFO DTMF');
  else if (body.trim() !== '') log.debug({ contentType: type }, 'INFO ignored');
  return dtmf;
}

export type ReInviteOutcome =
  | { kind: 'rejected' }
  /** Offerless re-INVITE: our 200 carried our current description as an offer; the ACK answers. */
  | { kind: 'offered'; localSdp: string }
  | { kind: 'answered'; localSdp: string; remoteSdp: string };

/** Answer a re-INVITE with our (re-negotiated) description, or reject it. */
export function answerReInvite(
  req: IncomingInviteRequest,
  current: string | undefined,
  contactHeader: string,
  log: Logger,
): ReInviteOutcome {
  if (!current) {
    req.reject({ statusCode: 481 });
    return { kind: 'rejected' };
  }
  const body = req.message.body ?? '';
  const extraHeaders = [contactHeader];
  if (body.trim() === '') {
    req.accept({ statusCode: 200, body: sdpBody(current), extraHeaders });
    log.info('offerless re-INVITE answered with our current description');
    return { kind: 'offered', localSdp: current };
  }
  const type = contentType(req.message);
  if (type !== '' && type !== 'application/sdp') {
    req.reject({ statusCode: 415, extraHeaders: ['Accept: application/sdp'] });
    return { kind: 'rejected' };
  }
  const res = renegotiateAudio(body, current);
  if (!res.ok) {
    log.warn({ status: res.status, reason: res.reason }, 're-INVITE offer rejected');
    req.reject({ statusCode: res.status, reasonPhrase: res.reason });
    return { kind: 'rejected' };
  }
  req.accept({ statusCode: 200, body: sdpBody(res.answerSdp), extraHeaders });
  if (!sameDescription(res.answerSdp, current)) log.info({ direction: res.direction }, 'local description changed by re-INVITE');
  log.info({ hold: res.hold, remote: res.remote }, 're-INVITE answered');
  return { kind: 'answered', localSdp: res.answerSdp, remoteSdp: body };
}

/** A Reason header line (RFC 3326) with a Q.850 cause. */
export function q850Reason(cause: number, text: string): string {
  return `Reason: Q.850;cause=${cause};text="${text.replace(/["\\\r\n]/g, '')}"`;
}

/**
 * Send BYE; resolves when it is answered, fails or times out (never rejects).
 * `logAnswer`: also log the answer (at debug level).
 */
export function sendBye(session: Session | undefined, extraHeaders: string[], log: Logger, logAnswer = false): Promise<void> {
  if (!session) return Promise.resolve();
  return new Promise<void>((resolve) => {
    try {
      session.bye(
        {
          onAccept: () => {
            if (logAnswer) log.debug('BYE answered');
            resolve();
          },
          onReject: (res) => {
            if (logAnswer) log.debug({ status: res.message.statusCode }, 'BYE answered with an error');
            resolve();
          },
        },
        { extraHeaders },
      );
      log.info('BYE sent');
    } catch (err) {
      log.warn({ err }, 'failed to send BYE');
      resolve();
    }
  });
}

/** `done`, but resolved after `ms` at the latest (the timer does not keep the process alive). */
export function settleWithin(done: Promise<void> | undefined, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([done, limit]).finally(() => clearTimeout(timer));
}

/** The log lines that tell the two kinds of call apart. */
export interface DialogCallTexts {
  ended: string;
  listenerThrew: string;
  handlerFailed: string;
}

/**
 * What InboundCall and OutboundCall share: the state and end reason, ending
 * once (hook, log line, `ended` event), emitting so that no listener's
 * exception reaches SIP.js, guarding SIP.js callbacks, and INFO DTMF.
 */
export abstract class DialogCall<
  Events extends Record<keyof Events, unknown[]> & { ended: [EndReason]; infoDtmf: [InfoDtmf] },
  State extends string,
  EndReason extends { by: string; cause: string },
> extends EventEmitter<Events> {
  protected _state: State;
  protected _endReason: EndReason | undefined;

  protected constructor(
    protected readonly log: Logger,
    initialState: State,
    private readonly texts: DialogCallTexts,
  ) {
    super();
    this._state = initialState;
  }

  get state(): State {
    return this._state;
  }

  /** Why the call ended (undefined while it is alive). */
  get endReason(): EndReason | undefined {
    return this._endReason;
  }

  /** Tells the owner (SipServer bookkeeping) that the call ended. */
  protected abstract notifyEnded(): void;

  /** Runs once when the call ends, before anything is told. */
  protected onEnding(): void {}

  protected finish(reason: EndReason): void {
    if (this._state === 'ended') return;
    this._state = 'ended' as State;
    this._endReason = reason;
    this.onEnding();
    this.log.info({ endedBy: reason.by, cause: reason.cause }, this.texts.ended);
    try {
      this.notifyEnded();
    } catch (err) {
      this.log.error({ err }, 'onEnded hook failed');
    }
    this.emitSafely('ended', [reason]);
  }

  protected safeEmit<K extends keyof Events & string>(event: K, ...args: Events[K]): void {
    this.emitSafely(event, args);
  }

  private emitSafely(event: string, args: unknown[]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, this.texts.listenerThrew);
    }
  }

  protected guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, what }, this.texts.handlerFailed);
    }
  }

  protected onInfo(req: IncomingInfoRequest): void {
    const dtmf = answerInfo(req, this.log);
    if (dtmf && this._state !== 'ended') this.emitSafely('infoDtmf', [dtmf]);
  }
}
