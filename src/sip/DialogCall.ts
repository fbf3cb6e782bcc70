/**
 * What InboundCall and OutboundCall share: the state and end reason, ending
 * once, emitting so that no listener's exception reaches SIP.js, guarded
 * SIP.js callbacks, INFO DTMF, UPDATE (RFC 3311) and our own re-offers
 * (hold / resume, session refresh) with glare handling.
 */
import { EventEmitter } from 'node:events';
import { NonInviteClientTransaction, UserAgentClient } from 'sip.js/lib/core/index.js';
import type {
  IncomingInfoRequest,
  IncomingInviteRequest,
  IncomingRequestMessage,
  IncomingResponseMessage,
  ResponseOptions,
  Session,
  SessionDialog,
} from 'sip.js/lib/core/index.js';
import type { Logger } from '../log.js';
import { answerInfo, answerOffer, answerReInvite, contentType, RemoteTargetGuard, sdpBody, type ReInviteOutcome } from './inDialog.js';
import { bumpSdpVersion, withDirection } from './sdp/negotiate.js';
import {
  intervalFromAnswer,
  negotiateAsAnswerer,
  refreshRequestHeaders,
  SessionTimer,
  type SessionInterval,
  type SessionTimerSettings,
} from './SessionTimer.js';
import type { InfoDtmf } from './SipTypes.js';

/** The log lines that tell the two kinds of call apart. */
export interface DialogCallTexts {
  ended: string;
  listenerThrew: string;
  handlerFailed: string;
}

/** Outcome of a re-INVITE we sent (hold, resume, session refresh). */
export type ReOfferResult =
  | { ok: true; response: IncomingResponseMessage }
  /** status 0: not sent (call not established); 491: glare persisted or another offer of ours is pending. */
  | { ok: false; status: number; reason: string };

/** What the session-timer policy says about a refresh request from the peer (re-INVITE or UPDATE). */
export type PeerRefreshVerdict =
  | { ok: true; headers: string[]; apply(): void }
  | { ok: false; status: number; reason: string; headers: string[] };

const NO_REFRESH_POLICY: PeerRefreshVerdict = { ok: true, headers: [], apply: () => undefined };
/** Attempts of one re-offer when the peer keeps answering 491 (glare). */
const GLARE_ATTEMPTS = 3;
/** Q.850 "recovery on timer expiry": the dialog is gone (408/481 to our re-INVITE). */
const Q850_RECOVERY_ON_TIMER_EXPIRY = 102;

export abstract class DialogCall<
  Events extends Record<keyof Events, unknown[]> & { ended: [EndReason]; infoDtmf: [InfoDtmf]; remoteSdp: [string] },
  State extends string,
  EndReason extends { by: string; cause: string },
> extends EventEmitter<Events> {
  protected _state: State;
  protected _endReason: EndReason | undefined;
  /** We put the call on hold (our description says sendonly). */
  private heldByUsValue = false;
  /** A re-INVITE of ours is outstanding: an UPDATE offer from the peer now gets 491. */
  private offerPending = false;
  /** RFC 4028 for this dialog, when enabled. */
  private sessionTimer: { timer: SessionTimer; settings: SessionTimerSettings } | undefined;
  /** The peer's Allow named UPDATE: we refresh with UPDATE rather than re-INVITE. */
  private peerAllowsUpdate = false;
  /**
   * Our current session description: what we last sent in an answer or an
   * offer the peer accepted (undefined before an inbound call is accepted;
   * an outbound call starts with its INVITE's offer).
   */
  protected localDescription: string | undefined;
  protected readonly remoteTarget = new RemoteTargetGuard();

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

  /** True while we hold the call (after a successful hold(), until resume()). */
  get heldByUs(): boolean {
    return this.heldByUsValue;
  }

  /** End the call from our side (BYE with a Reason header once answered). */
  abstract hangup(reason?: string, q850Cause?: number): void;

  /** Tells the owner (SipServer bookkeeping) that the call ended. */
  protected abstract notifyEnded(): void;
  /** The established dialog, once answered and confirmed enough to send requests in it. */
  protected abstract dialogSession(): Session | undefined;
  /** Our Contact header line, for 200s to target-refresh requests and our re-INVITEs. */
  protected abstract get contactHeader(): string;
  /** True when we sent the initial INVITE (we own the Call-ID): RFC 3261 14.1 glare back-off is then 2.1-4 s, else 0-2 s. */
  protected abstract get ownsCallId(): boolean;
  /** End the call because the session timer ran out or a refresh failed (BYE with `text` in a Reason header). */
  protected abstract endForSessionTimer(text: string): void;

  /** Switch RFC 4028 session timers on for this dialog (before it is established). */
  protected useSessionTimers(settings: SessionTimerSettings, peerAllowsUpdate: boolean): void {
    this.peerAllowsUpdate = peerAllowsUpdate;
    const timer = new SessionTimer(
      {
        refreshDue: () => void this.refreshSession(),
        expired: () =>
          this.guard('session timer', () => {
            if (this._state === 'ended') return;
            this.log.warn({ interval: timer.interval }, 'session timer expired without a refresh; ending the call');
            this.endForSessionTimer('Session timer expired');
          }),
      },
      this.log,
    );
    this.sessionTimer = { timer, settings };
  }

  /** (Re)start the session timer for a negotiated interval; no-op when timers are off. */
  protected startSessionTimer(interval: SessionInterval): void {
    this.sessionTimer?.timer.start(interval);
  }

  /** RFC 4028 for a refresh request (re-INVITE or UPDATE) from the peer: 422 when too small, else the headers for our 200. */
  protected peerRefresh(message: IncomingRequestMessage): PeerRefreshVerdict {
    const st = this.sessionTimer;
    if (!st) return NO_REFRESH_POLICY;
    const verdict = negotiateAsAnswerer(
      {
        sessionExpires: message.getHeader('session-expires') ?? message.getHeader('x'),
        minSE: message.getHeader('min-se'),
        supported: message.getHeaders('supported'),
      },
      st.settings,
    );
    switch (verdict.kind) {
      case 'too-small':
        return { ok: false, status: 422, reason: 'Session Interval Too Small', headers: [`Min-SE: ${verdict.minSeconds}`] };
      case 'malformed':
        return { ok: false, status: 400, reason: verdict.reason, headers: [] };
      case 'use':
        return { ok: true, headers: verdict.responseHeaders, apply: () => st.timer.start(verdict.interval) };
    }
  }

  /** We are the refresher: UPDATE without a body when the peer allows it, else a re-INVITE with our unchanged SDP. */
  private async refreshSession(): Promise<void> {
    const st = this.sessionTimer;
    const interval = st?.timer.interval;
    if (!st || !interval || this._state === 'ended') return;
    if (!this.dialogSession()) {
      // Not established yet (no ACK): nothing may be sent in the dialog; try again at the next half-interval.
      st.timer.start(interval);
      return;
    }
    const headers = refreshRequestHeaders(interval, st.settings.minSeconds);
    let result: ReOfferResult | undefined;
    if (this.peerAllowsUpdate) {
      result = await this.sendUpdate(headers);
      if (!result.ok && (result.status === 405 || result.status === 501)) {
        this.peerAllowsUpdate = false;
        result = undefined;
      }
    }
    result ??= await this.reOffer((sdp) => sdp, headers);
    if (this._endReason) return;
    if (result.ok) {
      st.timer.start(intervalFromAnswer(result.response.getHeader('session-expires') ?? result.response.getHeader('x'), interval));
      this.log.info('session refreshed');
      return;
    }
    if (result.status === 408 || result.status === 481 || result.status === 0) {
      this.log.warn({ status: result.status }, 'session refresh failed; ending the call');
      this.endForSessionTimer('Session refresh failed');
      return;
    }
    // Any other refusal leaves the session as it is; try again at the next half-interval.
    this.log.warn({ status: result.status, reason: result.reason }, 'session refresh refused');
    st.timer.start(interval);
  }

  /** UPDATE without a body (RFC 3311) in the established dialog. */
  private sendUpdate(extraHeaders: string[]): Promise<ReOfferResult> {
    const dialog = this.dialogSession() as unknown as SessionDialog | undefined;
    if (!dialog) return Promise.resolve({ ok: false, status: 0, reason: 'call not established' });
    return new Promise((resolve) => {
      const failed = (message: IncomingResponseMessage): void =>
        resolve({ ok: false, status: message.statusCode ?? 500, reason: message.reasonPhrase ?? '' });
      try {
        const message = dialog.createOutgoingRequestMessage('UPDATE', { extraHeaders: [this.contactHeader, ...extraHeaders] });
        new UserAgentClient(NonInviteClientTransaction, dialog.userAgentCore, message, {
          onAccept: (res) => resolve({ ok: true, response: res.message }),
          onReject: (res) => failed(res.message),
          onRedirect: (res) => failed(res.message),
        });
        this.log.info('UPDATE sent (session refresh)');
      } catch (err) {
        this.log.warn({ err }, 'failed to send UPDATE');
        resolve({ ok: false, status: 500, reason: 'could not send UPDATE' });
      }
    });
  }

  /**
   * Put the call on hold: re-INVITE offering `a=sendonly` (our audio keeps
   * going, e.g. music, the peer's is not wanted). Resolves with the outcome;
   * a 491 is retried after the RFC 3261 back-off; a 408 or 481 ends the call.
   */
  hold(): Promise<ReOfferResult> {
    return this.changeDirection(true);
  }

  /** Take the call off hold: re-INVITE offering `a=sendrecv` again. */
  resume(): Promise<ReOfferResult> {
    return this.changeDirection(false);
  }

  private async changeDirection(hold: boolean): Promise<ReOfferResult> {
    const result = await this.reOffer((sdp) => withDirection(sdp, hold ? 'sendonly' : 'sendrecv'), []);
    if (result.ok) {
      this.heldByUsValue = hold;
      this.log.info({ hold }, hold ? 'call held by us' : 'call resumed by us');
    } else {
      this.log.warn({ hold, status: result.status, reason: result.reason }, hold ? 'hold failed' : 'resume failed');
    }
    return result;
  }

  /**
   * Send a re-INVITE carrying `transform(current description)` with its
   * version bumped; retries on 491 (RFC 3261 14.1 back-off), ends the call
   * on 408/481 (the dialog is gone).
   */
  protected async reOffer(transform: (sdp: string) => string, extraHeaders: string[]): Promise<ReOfferResult> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.reOfferOnce(transform, extraHeaders);
      if (result.ok) return result;
      if (result.status === 491 && attempt < GLARE_ATTEMPTS && this.dialogSession()) {
        const waitMs = this.ownsCallId ? 2100 + Math.random() * 1900 : Math.random() * 2000;
        this.log.info({ waitMs: Math.round(waitMs) }, 're-INVITE glare (491); trying again');
        await new Promise((resolve) => setTimeout(resolve, waitMs).unref());
        continue;
      }
      if ((result.status === 408 || result.status === 481) && this.dialogSession()) {
        this.log.warn({ status: result.status }, 'dialog gone (re-INVITE failed); hanging up');
        this.hangup(`re-INVITE answered ${result.status}`, Q850_RECOVERY_ON_TIMER_EXPIRY);
      }
      return result;
    }
  }

  private reOfferOnce(transform: (sdp: string) => string, extraHeaders: string[]): Promise<ReOfferResult> {
    const session = this.dialogSession();
    const current = this.localDescription;
    if (!session || !current) return Promise.resolve({ ok: false, status: 0, reason: 'call not established' });
    if (this.offerPending) return Promise.resolve({ ok: false, status: 491, reason: 'another offer of ours is pending' });
    const next = transform(current);
    // RFC 3264 8: an unchanged description (a session refresh) keeps its version.
    const offer = next === current ? current : bumpSdpVersion(next);
    this.offerPending = true;
    return new Promise<ReOfferResult>((resolve) => {
      const settle = (result: ReOfferResult): void => {
        this.offerPending = false;
        resolve(result);
      };
      const failed = (message: IncomingResponseMessage): void =>
        settle({ ok: false, status: message.statusCode ?? 500, reason: message.reasonPhrase ?? '' });
      try {
        session.invite(
          {
            onAccept: (res) => {
              try {
                res.ack();
              } catch (err) {
                this.log.warn({ err }, 'failed to ACK our re-INVITE');
              }
              this.localDescription = offer;
              settle({ ok: true, response: res.message });
            },
            onReject: (res) => failed(res.message),
            onRedirect: (res) => failed(res.message),
          },
          { body: sdpBody(offer), extraHeaders: [this.contactHeader, ...extraHeaders] },
        );
        this.log.info('re-INVITE sent');
      } catch (err) {
        // SIP.js refuses while another INVITE transaction of the dialog is open
        // (RFC 3261 14.1): the same situation as a 491, so the same back-off.
        if (/ongoing re-INVITE/i.test((err as Error).message)) {
          settle({ ok: false, status: 491, reason: 'an INVITE transaction is in progress' });
          return;
        }
        this.log.warn({ err }, 'failed to send re-INVITE');
        settle({ ok: false, status: 500, reason: 'could not send re-INVITE' });
      }
    });
  }

  /**
   * An UPDATE inside the dialog (RFC 3311): with SDP, an offer answered
   * like a re-INVITE's (hold, resume, media moving); without, a session
   * refresh. SipServer hands it over with a stateless `reply` (UDP
   * retransmissions are answered from the transport's response cache).
   */
  handleUpdate(message: IncomingRequestMessage, reply: (options: ResponseOptions) => void): void {
    this.guard('UPDATE', () => {
      const body = message.body ?? '';
      const current = this.localDescription;
      if (this._state === 'ended') {
        reply({ statusCode: 481 });
        return;
      }
      if (!this.dialogSession() || !current) {
        // The initial offer/answer is not complete yet.
        if (body.trim() === '') reply({ statusCode: 200, extraHeaders: [this.contactHeader] });
        else reply({ statusCode: 491, reasonPhrase: 'Request Pending' });
        return;
      }
      let localSdp: string | undefined;
      if (body.trim() !== '') {
        if (this.offerPending) {
          reply({ statusCode: 491, reasonPhrase: 'Request Pending' });
          return;
        }
        const answer = answerOffer(contentType(message), body, current, this.heldByUsValue, this.log);
        if (!answer.ok) {
          reply({ statusCode: answer.status, reasonPhrase: answer.reason, ...(answer.extraHeaders ? { extraHeaders: answer.extraHeaders } : {}) });
          return;
        }
        localSdp = answer.localSdp;
      }
      const refresh = this.peerRefresh(message);
      if (!refresh.ok) {
        reply({ statusCode: refresh.status, reasonPhrase: refresh.reason, extraHeaders: refresh.headers });
        return;
      }
      refresh.apply();
      const extraHeaders = [this.contactHeader, ...refresh.headers];
      if (localSdp === undefined) {
        reply({ statusCode: 200, extraHeaders });
        this.log.info('UPDATE without SDP answered (session refresh)');
        return;
      }
      this.localDescription = localSdp;
      reply({ statusCode: 200, extraHeaders, body: sdpBody(localSdp) });
      this.emitSafely('remoteSdp', [body]);
    });
  }

  /**
   * A re-INVITE from the peer: the session-timer policy, then our answer
   * (or, offerless, our current description as an offer). The dialog's
   * remote target moves only when we accept. Undefined when refused;
   * otherwise what was sent, with our description already updated.
   */
  protected answerPeerReInvite(
    req: IncomingInviteRequest,
    session: Session | undefined,
  ): Exclude<ReInviteOutcome, { kind: 'rejected' }> | undefined {
    const refresh = this.peerRefresh(req.message);
    if (!refresh.ok) {
      this.remoteTarget.revert(session);
      req.reject({ statusCode: refresh.status, reasonPhrase: refresh.reason, extraHeaders: refresh.headers });
      return undefined;
    }
    const outcome = answerReInvite(req, this._state === 'ended' ? undefined : this.localDescription, this.contactHeader, this.log, {
      heldByUs: this.heldByUsValue,
      extraHeaders: refresh.headers,
    });
    if (outcome.kind === 'rejected') {
      this.remoteTarget.revert(session);
      return undefined;
    }
    this.remoteTarget.accept(session);
    refresh.apply();
    if (outcome.kind === 'answered') this.localDescription = outcome.localSdp;
    return outcome;
  }

  /** Runs once when the call ends, before anything is told (subclasses call super). */
  protected onEnding(): void {
    this.sessionTimer?.timer.stop();
  }

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
