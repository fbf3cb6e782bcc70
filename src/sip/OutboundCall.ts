/**
 * One outgoing call (the UAC side of an INVITE dialog), created by
 * `SipServer.dial()`. It reports 18x progress (with early-media SDP),
 * the answer (after sending the ACK), or a failure with a cause; it gives
 * up with CANCEL when the ring timeout expires or `cancel()` is called.
 * All SIP.js callbacks are funnelled through `guard`, so nothing thrown by
 * an event listener reaches SIP.js.
 */
import { Timers } from 'sip.js/lib/core/index.js';
import type {
  AckableIncomingResponseWithSession,
  IncomingByeRequest,
  IncomingInviteRequest,
  IncomingResponse,
  OutgoingInviteRequest,
  OutgoingInviteRequestDelegate,
  PrackableIncomingResponseWithSession,
  Session,
} from 'sip.js/lib/core/index.js';
import type { Logger } from '../log.js';
import { intervalFromAnswer, namesOptionTag, type SessionTimerSettings } from './SessionTimer.js';
import { DialogCall } from './DialogCall.js';
import { q850Reason, sendBye, settleWithin } from './inDialog.js';
import { Q850 } from './InboundCall.js';
import type {
  OutboundCallEvents,
  OutboundCallInfo,
  OutboundEndReason,
  OutboundFailure,
  OutboundFailureCause,
} from './SipTypes.js';

export type OutboundCallState = 'calling' | 'early' | 'answered' | 'ended';

/** How long shutdown waits for our BYE or CANCEL to be answered. */
const SHUTDOWN_WAIT_MS = 2000;

export interface OutboundCallDeps {
  logger: Logger;
  /** Our Contact header line, sent in 200s to re-INVITEs. */
  contactHeader: string;
  ringTimeoutMs: number;
  /** RFC 4028: our INVITE asked for session timers with these settings; the 2xx decides who refreshes. */
  sessionTimers?: SessionTimerSettings;
  /** Called once when the call ends (SipServer bookkeeping). */
  onEnded: (call: OutboundCall) => void;
}

/**
 * The failure cause of a final non-2xx response. `synthetic` is true for the
 * 408/503 SIP.js makes up when nothing answered or the transport failed.
 */
export function failureCause(status: number, synthetic = false): OutboundFailureCause {
  if (synthetic) return 'unavailable';
  if (status >= 300 && status < 400) return 'redirected';
  if (status === 486 || status === 600) return 'busy';
  if (status === 408 || status === 480 || status === 487) return 'no-answer';
  if (status >= 500 && status < 600) return 'unavailable';
  return 'rejected';
}

function hasSdp(message: { getHeader(name: string): string | undefined; body: string }): boolean {
  const type = (message.getHeader('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/sdp' && message.body.trim() !== '';
}

export class OutboundCall extends DialogCall<OutboundCallEvents, OutboundCallState, OutboundEndReason> {
  readonly info: OutboundCallInfo;
  private request: OutgoingInviteRequest | undefined;
  private session: Session | undefined;
  private _remoteSdp: string | undefined;
  /** Set once we decided to give up; the 487 then reports this cause. */
  private cancelCause: 'cancelled' | 'timeout' | undefined;
  private ringTimer: NodeJS.Timeout | undefined;
  private cancelGuard: NodeJS.Timeout | undefined;
  private byeDone: Promise<void> | undefined;
  /** The delegate to pass to `core.invite()`. */
  readonly delegate: OutgoingInviteRequestDelegate;

  constructor(info: OutboundCallInfo, private readonly deps: OutboundCallDeps) {
    super(deps.logger, 'calling', {
      ended: 'outbound call ended',
      listenerThrew: 'OutboundCall listener threw',
      handlerFailed: 'error while handling an outbound call event',
    });
    this.info = info;
    this.localDescription = info.offerSdp;
    this.delegate = {
      onProgress: (res) => this.guard('18x', () => this.onProgress(res)),
      onAccept: (res) => this.guard('2xx', () => this.onAccept(res)),
      onRedirect: (res) => this.guard('3xx', () => this.onFinal(res)),
      onReject: (res) => this.guard('4xx-6xx', () => this.onFinal(res)),
    };
  }

  /** Hand over the INVITE SIP.js is sending; starts the ring timer. */
  attach(request: OutgoingInviteRequest): void {
    this.request = request;
    if (this._state === 'ended') return;
    this.ringTimer = setTimeout(() => this.guard('ring timeout', () => this.onRingTimeout()), this.deps.ringTimeoutMs);
    this.ringTimer.unref();
  }

  /** The answer SDP (after `answered`, updated by re-INVITEs). */
  get remoteSdp(): string | undefined {
    return this._remoteSdp;
  }

  /** Give up an unanswered call (CANCEL); `failed` with cause 'cancelled' follows. Hangs up an answered one. */
  cancel(): void {
    if (this._state === 'answered') {
      this.hangup();
      return;
    }
    this.sendCancel('cancelled');
  }

  /** End the call: BYE with a Reason header once answered, CANCEL before. */
  hangup(reason?: string, q850Cause: number = Q850.NORMAL_CLEARING): void {
    switch (this._state) {
      case 'calling':
      case 'early':
        this.sendCancel('cancelled');
        return;
      case 'answered':
        this.byeDone = this.sendBye(this.session, [q850Reason(q850Cause, reason ?? 'Normal call clearing')]);
        this.finish({ by: 'local', cause: 'hangup' });
        return;
      case 'ended':
        return;
    }
  }

  /** Server shutdown: CANCEL or BYE, resolving when that is answered or after a bounded wait. */
  shutdown(): Promise<void> {
    let done: Promise<void>;
    if (this._state === 'answered') {
      this.hangup('Server shutting down', Q850.TEMPORARY_FAILURE);
      done = this.byeDone ?? Promise.resolve();
    } else if (this._state === 'ended') {
      done = this.byeDone ?? Promise.resolve();
    } else {
      done = new Promise<void>((resolve) => this.once('ended', () => resolve()));
      this.sendCancel('cancelled');
    }
    return settleWithin(done, SHUTDOWN_WAIT_MS);
  }

  private sendCancel(cause: 'cancelled' | 'timeout'): void {
    if (this._state !== 'calling' && this._state !== 'early') return;
    if (this.cancelCause) return;
    this.cancelCause = cause;
    this.clearRingTimer();
    this.log.info({ cause }, 'cancelling outbound call');
    try {
      // SIP.js holds the CANCEL until a provisional response has come (RFC 3261 9.1).
      this.request?.cancel();
    } catch (err) {
      this.log.warn({ err }, 'failed to send CANCEL');
    }
    // If the far end never answers the INVITE (no 1xx, so no CANCEL) or never
    // sends the 487, timer B's 64*T1 bounds the wait here too.
    this.cancelGuard = setTimeout(
      () => this.guard('cancel guard', () => this.fail({ status: 408, reason: 'Request Timeout', cause })),
      64 * Timers.T1 + 1000,
    );
    this.cancelGuard.unref();
  }

  private onRingTimeout(): void {
    this.ringTimer = undefined;
    if (this._state !== 'calling' && this._state !== 'early') return;
    this.log.info({ ringTimeoutMs: this.deps.ringTimeoutMs }, 'ring timeout');
    this.sendCancel('timeout');
  }

  private onProgress(res: PrackableIncomingResponseWithSession): void {
    const msg = res.message;
    if (this._state !== 'calling' && this._state !== 'early') return;
    this._state = 'early';
    const progress = { status: msg.statusCode ?? 0, reason: msg.reasonPhrase ?? '' };
    const early = hasSdp(msg) ? { earlySdp: msg.body } : {};
    this.log.info({ status: progress.status, earlyMedia: 'earlySdp' in early }, 'outbound call progress');
    this.safeEmit('progress', { ...progress, ...early });
  }

  private onAccept(res: AckableIncomingResponseWithSession): void {
    try {
      res.ack();
    } catch (err) {
      this.log.warn({ err }, 'failed to send ACK');
    }
    if (this._state === 'answered' || this._state === 'ended') {
      // A forked second answer, or an answer that crossed our CANCEL: hang it up.
      this.log.info({ state: this._state, cancelled: this.cancelCause }, 'unwanted 2xx: ACK and BYE');
      void this.sendBye(res.session, [q850Reason(Q850.NORMAL_CLEARING, this.cancelCause ? 'Call cancelled' : 'Answered elsewhere')]);
      return;
    }
    if (this.cancelCause) {
      // Answered while our CANCEL was on its way: the call is still given up.
      void this.sendBye(res.session, [q850Reason(Q850.NORMAL_CLEARING, 'Call cancelled')]);
      this.fail({ status: 487, reason: 'Request Terminated', cause: this.cancelCause });
      return;
    }
    this.clearRingTimer();
    const session = res.session;
    this.session = session;
    this.remoteTarget.accept(session);
    session.delegate = {
      onBye: (req) => this.guard('BYE', () => this.onBye(req)),
      onInfo: (req) => this.guard('INFO', () => this.onInfo(req)),
      onInvite: (req) => this.guard('re-INVITE', () => this.onReInvite(req)),
    };
    this._state = 'answered';
    const timers = this.deps.sessionTimers;
    if (timers) {
      this.useSessionTimers(timers, namesOptionTag(res.message.getHeaders('allow'), 'update'));
      // RFC 4028 7.2: without Session-Expires in the 2xx there is no session expiry.
      const expires = res.message.getHeader('session-expires') ?? res.message.getHeader('x');
      if (expires !== undefined) this.startSessionTimer(intervalFromAnswer(expires, { seconds: timers.expiresSeconds, refresher: 'us' }));
    }
    const remoteSdp = hasSdp(res.message) ? res.message.body : '';
    this._remoteSdp = remoteSdp;
    this.log.info('outbound call answered');
    this.safeEmit('answered', { remoteSdp });
  }

  private onFinal(res: IncomingResponse): void {
    const msg = res.message;
    const status = msg.statusCode ?? 0;
    const reason = msg.reasonPhrase ?? '';
    // SIP.js makes up a bare 408 (timer B) or 503 (transport error) with no headers.
    const synthetic = !msg.callId;
    let cause = failureCause(status, synthetic);
    if (this.cancelCause && (status === 487 || synthetic)) cause = this.cancelCause;
    this.fail({ status, reason, cause });
  }

  private fail(failure: OutboundFailure): void {
    if (this._state === 'ended' || this._state === 'answered') return;
    this.log.info({ status: failure.status, reason: failure.reason, cause: failure.cause }, 'outbound call failed');
    this.safeEmit('failed', failure);
    this.finish({ by: 'failed', cause: failure.cause });
  }

  private onBye(req: IncomingByeRequest): void {
    req.accept();
    if (this._state === 'ended') return;
    this.log.info('BYE from remote');
    this.finish({ by: 'remote', cause: 'bye' });
  }

  private onReInvite(req: IncomingInviteRequest): void {
    const outcome = this.answerPeerReInvite(req, this.session);
    if (outcome?.kind === 'answered') {
      this._remoteSdp = outcome.remoteSdp;
      this.safeEmit('remoteSdp', outcome.remoteSdp);
    }
  }

  private sendBye(session: Session | undefined, extraHeaders: string[]): Promise<void> {
    return sendBye(session, extraHeaders, this.log);
  }

  private clearRingTimer(): void {
    if (this.ringTimer) clearTimeout(this.ringTimer);
    this.ringTimer = undefined;
  }

  protected endForSessionTimer(text: string): void {
    this.byeDone = this.sendBye(this.session, [q850Reason(Q850.RECOVERY_ON_TIMER_EXPIRY, text)]);
    this.finish({ by: 'timeout', cause: 'session-timer' });
  }

  protected override onEnding(): void {
    super.onEnding();
    this.clearRingTimer();
    if (this.cancelGuard) clearTimeout(this.cancelGuard);
    this.cancelGuard = undefined;
  }

  protected notifyEnded(): void {
    this.deps.onEnded(this);
  }

  protected dialogSession(): Session | undefined {
    return this._state === 'answered' ? this.session : undefined;
  }

  protected get contactHeader(): string {
    return this.deps.contactHeader;
  }

  protected get ownsCallId(): boolean {
    return true;
  }
}
