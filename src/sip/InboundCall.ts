/**
 * One incoming call (the UAS side of an INVITE dialog). Created by
 * SipServer for each new INVITE; the application answers or rejects it and
 * later hangs it up. All SIP.js callbacks are funnelled through here and
 * nothing thrown by an event listener reaches SIP.js.
 */
import { EventEmitter } from 'node:events';
import type {
  Body,
  IncomingAckRequest,
  IncomingByeRequest,
  IncomingInfoRequest,
  IncomingInviteRequest,
  IncomingRequestMessage,
  Session,
} from 'sip.js/lib/core/index.js';
import type { Logger } from '../log.js';
import { renegotiateAudio, sameDescription } from './sdp/negotiate.js';
import type { CallEndReason, InboundCallEvents, InboundCallInfo, InfoDtmf } from './SipTypes.js';

export type InboundCallState = 'ringing' | 'answered' | 'confirmed' | 'ended';

/** Q.850 cause values we put in Reason headers. */
export const Q850 = {
  NORMAL_CLEARING: 16,
  NO_USER_RESPONSE: 18,
  NORMAL_UNSPECIFIED: 31,
  TEMPORARY_FAILURE: 41,
  RECOVERY_ON_TIMER_EXPIRY: 102,
} as const;

export interface InboundCallDeps {
  logger: Logger;
  /** The Contact header line of our side, e.g. `Contact: <sip:bridge@10.0.0.1:5060>`. */
  contactHeader: string;
  /** Called once when the call ends (SipServer bookkeeping). */
  onEnded: (call: InboundCall) => void;
}

function sdpBody(sdp: string): Body {
  return { contentDisposition: 'session', contentType: 'application/sdp', content: sdp };
}

function contentType(message: IncomingRequestMessage): string {
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

export class InboundCall extends EventEmitter<InboundCallEvents> {
  readonly info: InboundCallInfo;
  private readonly log: Logger;
  private _state: InboundCallState = 'ringing';
  private _endReason: CallEndReason | undefined;
  private session: Session | undefined;
  private _localSdp: string | undefined;
  /** Extra headers of a BYE that must wait for the ACK (we hung up before it came). */
  private pendingBye: string[] | undefined;
  /** Our 200 to an offerless (re-)INVITE carried an offer; the ACK carries the answer. */
  private expectAnswerInAck = false;

  constructor(
    private readonly uas: IncomingInviteRequest,
    info: InboundCallInfo,
    private readonly deps: InboundCallDeps,
  ) {
    super();
    this.info = info;
    this.log = deps.logger;
    uas.delegate = {
      onCancel: () => this.guard('CANCEL', () => this.onCancel()),
      onTransportError: (err) => this.log.warn({ err }, 'transport error on INVITE transaction'),
    };
  }

  get state(): InboundCallState {
    return this._state;
  }

  /** Why the call ended (undefined while it is alive). */
  get endReason(): CallEndReason | undefined {
    return this._endReason;
  }

  /** The session description we last sent (undefined before accept). */
  get localSdp(): string | undefined {
    return this._localSdp;
  }

  /** Answer with 200 OK carrying our SDP (an answer, or an offer if the INVITE had none). */
  accept(answerSdp: string): void {
    if (this._state !== 'ringing') {
      this.log.warn({ state: this._state }, 'accept() ignored: call is not ringing');
      return;
    }
    try {
      const res = this.uas.accept({ statusCode: 200, body: sdpBody(answerSdp) });
      this.session = res.session;
      this._localSdp = answerSdp;
      this.expectAnswerInAck = this.info.offerSdp.trim() === '';
      this._state = 'answered';
      res.session.delegate = {
        onAck: (req) => this.guard('ACK', () => this.onAck(req)),
        onAckTimeout: () => this.guard('ACK timeout', () => this.onAckTimeout()),
        onBye: (req) => this.guard('BYE', () => this.onBye(req)),
        onInfo: (req) => this.guard('INFO', () => this.onInfo(req)),
        onInvite: (req) => this.guard('re-INVITE', () => this.onReInvite(req)),
      };
      this.log.info('call answered');
    } catch (err) {
      this.log.error({ err }, 'failed to send 200 OK');
      this.finish({ by: 'local', cause: 'rejected' });
    }
  }

  /** Reject the unanswered call with a final status (300–699). */
  reject(status: number, reason?: string): void {
    if (!Number.isInteger(status) || status < 300 || status > 699) {
      throw new RangeError(`reject() needs a final non-2xx status, got ${status}`);
    }
    if (this._state !== 'ringing') {
      this.log.warn({ state: this._state, status }, 'reject() ignored: call is not ringing');
      return;
    }
    this.sendReject(status, reason);
    this.finish({ by: 'local', cause: 'rejected' });
  }

  /**
   * End the call from our side: BYE with a Reason header once answered
   * (deferred until the ACK if it has not come yet), 480 if still ringing.
   */
  hangup(reason?: string, q850Cause: number = Q850.NORMAL_CLEARING): void {
    const text = (reason ?? 'Normal call clearing').replace(/["\\\r\n]/g, '');
    const headers = [`Reason: Q.850;cause=${q850Cause};text="${text}"`];
    switch (this._state) {
      case 'ringing':
        this.sendReject(480, undefined, headers);
        break;
      case 'answered':
        this.pendingBye = headers;
        break;
      case 'confirmed':
        this.sendBye(headers);
        break;
      case 'ended':
        return;
    }
    this.finish({ by: 'local', cause: 'hangup' });
  }

  private sendReject(status: number, reason?: string, extraHeaders?: string[]): void {
    try {
      this.uas.reject({
        statusCode: status,
        ...(reason ? { reasonPhrase: reason.replace(/[\r\n]/g, ' ') } : {}),
        ...(extraHeaders ? { extraHeaders } : {}),
      });
      this.log.info({ status }, 'call rejected');
    } catch (err) {
      this.log.warn({ err, status }, 'failed to send final response');
    }
  }

  private sendBye(extraHeaders: string[]): void {
    const session = this.session;
    if (!session) return;
    try {
      session.bye(
        {
          onAccept: () => this.log.debug('BYE answered'),
          onReject: (res) => this.log.debug({ status: res.message.statusCode }, 'BYE answered with an error'),
        },
        { extraHeaders },
      );
      this.log.info('BYE sent');
    } catch (err) {
      this.log.warn({ err }, 'failed to send BYE');
    }
  }

  private onCancel(): void {
    if (this._state !== 'ringing') return;
    this.sendReject(487);
    this.finish({ by: 'remote', cause: 'cancel' });
  }

  private onAck(req: IncomingAckRequest): void {
    const body = req.message.body ?? '';
    if (this.expectAnswerInAck && body.trim() !== '') {
      this.expectAnswerInAck = false;
      this.safeEmit('remoteSdp', body);
    }
    if (this._state === 'answered') {
      this._state = 'confirmed';
      this.log.info('call confirmed');
      this.safeEmit('confirmed');
    } else if (this._state === 'ended' && this.pendingBye) {
      const headers = this.pendingBye;
      this.pendingBye = undefined;
      this.sendBye(headers);
    }
  }

  private onAckTimeout(): void {
    if (this.pendingBye) {
      const headers = this.pendingBye;
      this.pendingBye = undefined;
      this.sendBye(headers);
      return;
    }
    if (this._state !== 'answered') return;
    this.log.warn('no ACK for 200 OK; ending the call');
    this.sendBye([`Reason: Q.850;cause=${Q850.RECOVERY_ON_TIMER_EXPIRY};text="No ACK"`]);
    this.finish({ by: 'timeout', cause: 'no-ack' });
  }

  private onBye(req: IncomingByeRequest): void {
    req.accept();
    this.pendingBye = undefined;
    if (this._state === 'ended') return;
    this.log.info('BYE from remote');
    this.finish({ by: 'remote', cause: 'bye' });
  }

  private onInfo(req: IncomingInfoRequest): void {
    const type = contentType(req.message);
    const body = req.message.body ?? '';
    req.accept();
    const dtmf = parseInfoDtmf(type, body);
    if (dtmf) {
      this.log.debug({ digit: dtmf.digit, durationMs: dtmf.durationMs }, 'INFO DTMF');
      if (this._state !== 'ended') this.safeEmit('infoDtmf', dtmf);
    } else if (body.trim() !== '') {
      this.log.debug({ contentType: type }, 'INFO ignored');
    }
  }

  private onReInvite(req: IncomingInviteRequest): void {
    const current = this._localSdp;
    if (!current || this._state === 'ended') {
      req.reject({ statusCode: 481 });
      return;
    }
    const body = req.message.body ?? '';
    const extraHeaders = [this.deps.contactHeader];
    if (body.trim() === '') {
      // Offerless re-INVITE: we offer our current description, the ACK answers.
      const offer = current;
      req.accept({ statusCode: 200, body: sdpBody(offer), extraHeaders });
      this.expectAnswerInAck = true;
      this.log.info('offerless re-INVITE answered with our current description');
      return;
    }
    const type = contentType(req.message);
    if (type !== '' && type !== 'application/sdp') {
      req.reject({ statusCode: 415, extraHeaders: ['Accept: application/sdp'] });
      return;
    }
    const res = renegotiateAudio(body, current);
    if (!res.ok) {
      this.log.warn({ status: res.status, reason: res.reason }, 're-INVITE offer rejected');
      req.reject({ statusCode: res.status, reasonPhrase: res.reason });
      return;
    }
    req.accept({ statusCode: 200, body: sdpBody(res.answerSdp), extraHeaders });
    if (!sameDescription(res.answerSdp, current)) this.log.info({ direction: res.direction }, 'local description changed by re-INVITE');
    this._localSdp = res.answerSdp;
    this.log.info({ hold: res.hold, remote: res.remote }, 're-INVITE answered');
    this.safeEmit('remoteSdp', body);
  }

  private finish(reason: CallEndReason): void {
    if (this._state === 'ended' && this._endReason) return;
    this._state = 'ended';
    this._endReason = reason;
    this.log.info({ endedBy: reason.by, cause: reason.cause }, 'call ended');
    try {
      this.deps.onEnded(this);
    } catch (err) {
      this.log.error({ err }, 'onEnded hook failed');
    }
    this.safeEmit('ended', reason);
  }

  private safeEmit<K extends keyof InboundCallEvents>(event: K, ...args: InboundCallEvents[K]): void {
    try {
      (this.emit as (e: string, ...a: unknown[]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error({ err, event }, 'InboundCall listener threw');
    }
  }

  private guard(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err, what }, 'error while handling an in-dialog event');
    }
  }
}
