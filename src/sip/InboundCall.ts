/**
 * One incoming call (the UAS side of an INVITE dialog). Created by
 * SipServer for each new INVITE; the application answers or rejects it and
 * later hangs it up. All SIP.js callbacks are funnelled through here and
 * nothing thrown by an event listener reaches SIP.js.
 */
import type {
  IncomingAckRequest,
  IncomingByeRequest,
  IncomingInviteRequest,
  IncomingPrackRequest,
  Session,
} from 'sip.js/lib/core/index.js';
import type { Logger } from '../log.js';
import { DialogCall } from './DialogCall.js';
import { q850Reason, sdpBody, sendBye, settleWithin } from './inDialog.js';
import { offeredCodecs, selectAudio } from './sdp/negotiate.js';
import type { SessionInterval, SessionTimerSettings } from './SessionTimer.js';
import type { CallEndReason, InboundCallEvents, InboundCallInfo } from './SipTypes.js';

export type InboundCallState = 'ringing' | 'answered' | 'confirmed' | 'ended';

/** Q.850 cause values we put in Reason headers. */
export const Q850 = {
  NORMAL_CLEARING: 16,
  NO_USER_RESPONSE: 18,
  NORMAL_UNSPECIFIED: 31,
  TEMPORARY_FAILURE: 41,
  INCOMPATIBLE_DESTINATION: 88,
  RECOVERY_ON_TIMER_EXPIRY: 102,
} as const;

export interface InboundCallDeps {
  logger: Logger;
  /** The Contact header line of our side, e.g. `Contact: <sip:bridge@10.0.0.1:5060>`. */
  contactHeader: string;
  /** Called once when the call ends (SipServer bookkeeping). */
  onEnded: (call: InboundCall) => void;
  /** Called when a BYE deferred until the ACK has gone out (or is no longer owed). */
  onByeSettled?: (call: InboundCall) => void;
  /** RFC 4028 session timer negotiated on the INVITE; absent when session timers are off. */
  sessionTimer?: {
    settings: SessionTimerSettings;
    interval: SessionInterval;
    /** Session-Expires (and Require) lines for our 200. */
    responseHeaders: string[];
    /** The INVITE's Allow named UPDATE: we refresh with UPDATE rather than re-INVITE. */
    peerAllowsUpdate: boolean;
  };
  /** The INVITE supports or requires 100rel (RFC 3262): our 180 is sent reliably. */
  reliableProvisional?: boolean;
  /** UDP: a reliable 180 is retransmitted until its PRACK comes (TCP/TLS deliver it once). */
  unreliableTransport?: boolean;
}

export { normaliseDtmfSignal, parseInfoDtmf } from './inDialog.js';

/** How long shutdown waits for a BYE to be answered. */
const SHUTDOWN_BYE_WAIT_MS = 2000;
/** RFC 3262 3: a reliable provisional is retransmitted from T1, doubling, and given up after 64*T1. */
const T1_MS = 500;
const PRACK_WAIT_MS = 64 * T1_MS;

export class InboundCall extends DialogCall<InboundCallEvents, InboundCallState, CallEndReason> {
  readonly info: InboundCallInfo;
  private session: Session | undefined;
  /** Extra headers of a BYE that must wait for the ACK (we hung up before it came). */
  private pendingBye: string[] | undefined;
  /** Our 200 to an offerless (re-)INVITE carried an offer; the ACK carries the answer. */
  private expectAnswerInAck = false;
  /** The answer in the ACK completes the initial offer/answer (delayed offer): without a usable one the call ends. */
  private initialAnswerInAck = false;
  /** 180 Ringing has been sent. */
  private rang = false;
  /** A reliable 180 waiting for its PRACK: the retransmission timer. */
  private reliableRetransmit: NodeJS.Timeout | undefined;

  constructor(
    private readonly uas: IncomingInviteRequest,
    info: InboundCallInfo,
    private readonly deps: InboundCallDeps,
  ) {
    super(deps.logger, 'ringing', {
      ended: 'call ended',
      listenerThrew: 'InboundCall listener threw',
      handlerFailed: 'error while handling an in-dialog event',
    });
    this.info = info;
    if (deps.sessionTimer) this.useSessionTimers(deps.sessionTimer.settings, deps.sessionTimer.peerAllowsUpdate);
    uas.delegate = {
      onCancel: () => this.guard('CANCEL', () => this.onCancel()),
      onTransportError: (err) => this.log.warn({ err }, 'transport error on INVITE transaction'),
    };
  }

  /** The session description we last sent (undefined before accept). */
  get localSdp(): string | undefined {
    return this.localDescription;
  }

  /**
   * Send 180 Ringing (the call stays unanswered); false when it is no longer
   * ringing or the response failed. Reliable (RFC 3262: Require: 100rel,
   * RSeq) when the INVITE supports 100rel; over UDP it is retransmitted
   * until the PRACK comes, and without a PRACK in 64*T1 the call is refused
   * with 504.
   */
  ring(): boolean {
    if (this._state !== 'ringing') return false;
    // One 180 per call: a reliable one would need a new RSeq each time.
    if (this.rang) return true;
    const reliable = this.deps.reliableProvisional === true;
    try {
      const res = this.uas.progress({ statusCode: 180, ...(reliable ? { extraHeaders: ['Require: 100rel', 'RSeq: 1'] } : {}) });
      this.rang = true;
      this.log.info({ reliable }, '180 Ringing sent');
      if (reliable) {
        res.session.delegate = { onPrack: (req) => this.guard('PRACK', () => this.onPrack(req)) };
        this.retransmitReliable(T1_MS, Date.now());
      }
      return true;
    } catch (err) {
      this.log.warn({ err }, 'failed to send 180 Ringing');
      return false;
    }
  }

  private retransmitReliable(intervalMs: number, since: number): void {
    this.reliableRetransmit = setTimeout(() => {
      this.reliableRetransmit = undefined;
      this.guard('reliable 180', () => {
        if (this._state !== 'ringing') return;
        if (Date.now() - since >= PRACK_WAIT_MS) {
          this.log.warn('no PRACK for our reliable 180; refusing the call');
          this.reject(504, 'No PRACK');
          return;
        }
        if (this.deps.unreliableTransport) this.uas.progress({ statusCode: 180, extraHeaders: ['Require: 100rel', 'RSeq: 1'] });
        this.retransmitReliable(this.deps.unreliableTransport ? intervalMs * 2 : PRACK_WAIT_MS, since);
      });
    }, intervalMs);
    this.reliableRetransmit.unref();
  }

  private stopReliableRetransmit(): void {
    if (this.reliableRetransmit) clearTimeout(this.reliableRetransmit);
    this.reliableRetransmit = undefined;
  }

  /** PRACK for our reliable 180 (RAck "1 <CSeq> INVITE"): answered 200, retransmissions stop. */
  private onPrack(req: IncomingPrackRequest): void {
    const rack = (req.message.getHeader('rack') ?? '').trim().split(/\s+/);
    if (rack[0] !== '1' || rack[2]?.toUpperCase() !== 'INVITE') {
      req.reject({ statusCode: 481, reasonPhrase: 'No Matching Reliable Response' });
      return;
    }
    req.accept();
    this.stopReliableRetransmit();
    this.log.debug('PRACK received');
  }

  /** Answer with 200 OK carrying our SDP (an answer, or an offer if the INVITE had none). */
  accept(answerSdp: string): void {
    if (this._state !== 'ringing') {
      this.log.warn({ state: this._state }, 'accept() ignored: call is not ringing');
      return;
    }
    try {
      this.stopReliableRetransmit();
      const res = this.uas.accept({ statusCode: 200, body: sdpBody(answerSdp), extraHeaders: this.deps.sessionTimer?.responseHeaders ?? [] });
      this.session = res.session;
      this.remoteTarget.accept(res.session);
      this.localDescription = answerSdp;
      this.expectAnswerInAck = this.info.offerSdp.trim() === '';
      this.initialAnswerInAck = this.expectAnswerInAck;
      if (this.deps.sessionTimer) this.startSessionTimer(this.deps.sessionTimer.interval);
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
    const headers = [q850Reason(q850Cause, reason ?? 'Normal call clearing')];
    switch (this._state) {
      case 'ringing':
        this.sendReject(480, undefined, headers);
        break;
      case 'answered':
        this.pendingBye = headers;
        break;
      case 'confirmed':
        void this.sendBye(headers);
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

  /** Send BYE; resolves when it is answered, fails or times out (never rejects). */
  private sendBye(extraHeaders: string[]): Promise<void> {
    return sendBye(this.session, extraHeaders, this.log, true);
  }

  /** True when we hung up before the ACK and still owe the BYE. */
  get byePending(): boolean {
    return this.pendingBye !== undefined;
  }

  /**
   * Server shutdown: reject a ringing call with 503, and send BYE now to any
   * answered call, also one still waiting for its ACK (RFC 3261 15 would
   * have us wait for the ACK, but the server is going away). Resolves when
   * the BYE is answered or after a bounded wait.
   */
  shutdown(reason = 'Server shutting down'): Promise<void> {
    const headers = [q850Reason(Q850.TEMPORARY_FAILURE, reason)];
    let bye: Promise<void> | undefined;
    switch (this._state) {
      case 'ringing':
        this.reject(503, 'Service Unavailable');
        return Promise.resolve();
      case 'answered':
      case 'confirmed':
        this.allowByeBeforeAck();
        bye = this.sendBye(headers);
        this.finish({ by: 'local', cause: 'hangup' });
        break;
      case 'ended':
        if (!this.pendingBye) return Promise.resolve();
        this.pendingBye = undefined;
        this.allowByeBeforeAck();
        bye = this.sendBye(headers);
        this.deps.onByeSettled?.(this);
        break;
    }
    return settleWithin(bye, SHUTDOWN_BYE_WAIT_MS);
  }

  /**
   * SIP.js refuses a UAS BYE while its dialog waits for the ACK. At shutdown
   * we send it anyway: clearing the flag also stops the 2xx retransmissions.
   */
  private allowByeBeforeAck(): void {
    const dialog = this.session as unknown as { ackWait?: boolean } | undefined;
    if (dialog && dialog.ackWait === true) dialog.ackWait = false;
  }

  private onCancel(): void {
    if (this._state !== 'ringing') return;
    this.sendReject(487);
    this.finish({ by: 'remote', cause: 'cancel' });
  }

  private onAck(req: IncomingAckRequest): void {
    const body = req.message.body ?? '';
    if (this.initialAnswerInAck && this._state === 'answered') {
      // Delayed offer: this ACK completes the initial offer/answer.
      this.initialAnswerInAck = false;
      this.expectAnswerInAck = false;
      if (!this.usableAnswer(body)) {
        this.log.warn('ACK without a usable answer to our offer; ending the call');
        this._state = 'confirmed';
        void this.sendBye([q850Reason(Q850.INCOMPATIBLE_DESTINATION, 'No usable SDP answer in ACK')]);
        this.finish({ by: 'local', cause: 'no-answer-in-ack' });
        return;
      }
      this.safeEmit('remoteSdp', body);
    } else if (this.expectAnswerInAck && body.trim() !== '') {
      // Answer to the offer in our 200 to an offerless re-INVITE.
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
      void this.sendBye(headers);
      this.deps.onByeSettled?.(this);
    }
  }

  private onAckTimeout(): void {
    if (this.pendingBye) {
      const headers = this.pendingBye;
      this.pendingBye = undefined;
      void this.sendBye(headers);
      this.deps.onByeSettled?.(this);
      return;
    }
    if (this._state !== 'answered') return;
    this.log.warn('no ACK for 200 OK; ending the call');
    void this.sendBye([q850Reason(Q850.RECOVERY_ON_TIMER_EXPIRY, 'No ACK')]);
    this.finish({ by: 'timeout', cause: 'no-ack' });
  }

  private onBye(req: IncomingByeRequest): void {
    req.accept();
    if (this.pendingBye) {
      this.pendingBye = undefined;
      this.deps.onByeSettled?.(this);
    }
    if (this._state === 'ended') return;
    this.log.info('BYE from remote');
    this.finish({ by: 'remote', cause: 'bye' });
  }

  private onReInvite(req: IncomingInviteRequest): void {
    const outcome = this.answerPeerReInvite(req, this.session);
    if (outcome?.kind === 'offered') this.expectAnswerInAck = true;
    else if (outcome?.kind === 'answered') this.safeEmit('remoteSdp', outcome.remoteSdp);
  }

  protected notifyEnded(): void {
    this.deps.onEnded(this);
  }

  protected override onEnding(): void {
    super.onEnding();
    this.stopReliableRetransmit();
  }

  protected dialogSession(): Session | undefined {
    return this._state === 'confirmed' ? this.session : undefined;
  }

  protected get contactHeader(): string {
    return this.deps.contactHeader;
  }

  protected get ownsCallId(): boolean {
    return false;
  }

  /** Does the ACK's body answer our offer (delayed offer) with a codec and address we can use? */
  private usableAnswer(body: string): boolean {
    if (body.trim() === '' || !this.localDescription) return false;
    const offered = offeredCodecs(this.localDescription);
    const answer = selectAudio(body, { supportedCodecs: offered.length > 0 ? offered : ['PCMU'] });
    return answer.ok;
  }

  /** The session timer ran out or a refresh failed: BYE (also before the ACK) with a Reason header. */
  protected endForSessionTimer(text: string): void {
    this.allowByeBeforeAck();
    void this.sendBye([q850Reason(Q850.RECOVERY_ON_TIMER_EXPIRY, text)]);
    this.finish({ by: 'timeout', cause: 'session-timer' });
  }
}
