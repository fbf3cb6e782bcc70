/**
 * In-dialog request handling shared by InboundCall and OutboundCall (see
 * DialogCall): INFO (DTMF), re-INVITE and UPDATE offer/answer, BYE.
 */
import type { Body, IncomingInfoRequest, IncomingInviteRequest, IncomingRequestMessage, Session } from 'sip.js/lib/core/index.js';
import type { Logger } from '../log.js';
import { AUDIO_CODECS, directionWhileHolding, renegotiateAudio, sameDescription, withDirection } from './sdp/negotiate.js';
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

/** What to answer to an offer received inside the dialog (re-INVITE or UPDATE). */
export type OfferAnswer =
  | { ok: true; localSdp: string }
  | { ok: false; status: number; reason: string; extraHeaders?: string[] };

/**
 * Answer a new offer with our current description re-negotiated (same
 * address and port; the offer's first codec among those we run, which the
 * call's media follows). While we hold the call ourselves the answer
 * never says we send audio the peer should play as the room's.
 */
export function answerOffer(type: string, body: string, current: string, heldByUs: boolean, log: Logger): OfferAnswer {
  if (type !== '' && type !== 'application/sdp') {
    return { ok: false, status: 415, reason: 'Unsupported Media Type', extraHeaders: ['Accept: application/sdp'] };
  }
  const res = renegotiateAudio(body, current, AUDIO_CODECS);
  if (!res.ok) {
    log.warn({ status: res.status, reason: res.reason }, 'in-dialog offer rejected');
    return { ok: false, status: res.status, reason: res.reason };
  }
  let localSdp = res.answerSdp;
  if (heldByUs) {
    const direction = directionWhileHolding(res.direction);
    if (direction !== res.direction) localSdp = withDirection(localSdp, direction);
  }
  if (!sameDescription(localSdp, current)) log.info({ direction: res.direction }, 'local description changed by an in-dialog offer');
  log.info({ hold: res.hold, remote: res.remote }, 'in-dialog offer answered');
  return { ok: true, localSdp };
}

/** Answer a re-INVITE with our (re-negotiated) description, or reject it. `extraHeaders` go into the 200. */
export function answerReInvite(
  req: IncomingInviteRequest,
  current: string | undefined,
  contactHeader: string,
  log: Logger,
  options: { heldByUs?: boolean; extraHeaders?: string[] } = {},
): ReInviteOutcome {
  if (!current) {
    req.reject({ statusCode: 481 });
    return { kind: 'rejected' };
  }
  const body = req.message.body ?? '';
  const extraHeaders = [contactHeader, ...(options.extraHeaders ?? [])];
  if (body.trim() === '') {
    req.accept({ statusCode: 200, body: sdpBody(current), extraHeaders });
    log.info('offerless re-INVITE answered with our current description');
    return { kind: 'offered', localSdp: current };
  }
  const answer = answerOffer(contentType(req.message), body, current, options.heldByUs ?? false, log);
  if (!answer.ok) {
    req.reject({ statusCode: answer.status, reasonPhrase: answer.reason, ...(answer.extraHeaders ? { extraHeaders: answer.extraHeaders } : {}) });
    return { kind: 'rejected' };
  }
  req.accept({ statusCode: 200, body: sdpBody(answer.localSdp), extraHeaders });
  return { kind: 'answered', localSdp: answer.localSdp, remoteSdp: body };
}

/** SIP.js keeps the dialog's remote target in a protected field. */
interface DialogTargetAccess {
  dialogState?: { remoteTarget: unknown };
}

/**
 * The remote target to keep while a re-INVITE is being judged. SIP.js
 * replaces it with the re-INVITE's Contact before anyone sees the request;
 * a re-INVITE we refuse must not move the dialog (RFC 6141 3.3), or a
 * forged in-dialog INVITE with bad SDP could redirect our BYE.
 */
export class RemoteTargetGuard {
  private accepted: unknown;

  /** Remember the current target as the accepted one (after the dialog is set up or a re-INVITE is accepted). */
  accept(session: Session | undefined): void {
    const state = (session as unknown as DialogTargetAccess | undefined)?.dialogState;
    if (state) this.accepted = state.remoteTarget;
  }

  /** Put back the accepted target (the re-INVITE was refused). */
  revert(session: Session | undefined): void {
    const state = (session as unknown as DialogTargetAccess | undefined)?.dialogState;
    if (state && this.accepted !== undefined) state.remoteTarget = this.accepted;
  }
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

