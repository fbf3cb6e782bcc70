/**
 * RFC 4028 session timers for one dialog: the negotiation of a request's
 * Session-Expires / Min-SE (as the side that answers it) and the timer that
 * either asks for a refresh at half the interval (we are the refresher) or
 * declares the session dead shortly before it expires (the peer is).
 */
import type { Logger } from '../log.js';

export interface SessionTimerSettings {
  /** Interval we ask for when the request names none. RFC 4028 recommends 1800 s. */
  expiresSeconds: number;
  /** Smallest interval we accept (our Min-SE); smaller requests get 422. RFC 4028 floor: 90 s. */
  minSeconds: number;
}

/** Who refreshes, from this dialog's point of view. */
export type RefreshingSide = 'us' | 'peer';

export interface SessionInterval {
  seconds: number;
  refresher: RefreshingSide;
}

export type SessionTimerVerdict =
  /** 422 Session Interval Too Small, with `Min-SE: minSeconds`. */
  | { kind: 'too-small'; minSeconds: number }
  | { kind: 'malformed'; reason: string }
  /** Run the timer; `responseHeaders` go into our 2xx. */
  | { kind: 'use'; interval: SessionInterval; responseHeaders: string[] };

const DELTA_RE = /^\s*(\d{1,9})\s*(;.*)?$/;

/** `delta-seconds;params` of a Session-Expires or Min-SE value; undefined when absent, null when malformed. */
function parseDelta(value: string | undefined): { seconds: number; params: string } | undefined | null {
  if (value === undefined) return undefined;
  const m = DELTA_RE.exec(value);
  if (!m) return null;
  return { seconds: Number(m[1]), params: m[2] ?? '' };
}

/** True when a Supported (or Require) header value list names `tag`. */
export function namesOptionTag(values: readonly string[], tag: string): boolean {
  return values.some((v) => v.split(',').some((t) => t.trim().toLowerCase() === tag));
}

/**
 * RFC 4028 section 9, as the side answering a session-refresh-capable
 * request (the initial INVITE, a re-INVITE or an UPDATE from the peer):
 * 422 when its Session-Expires is below our minimum; otherwise its interval
 * (or ours, never below its Min-SE) and its refresher choice (or the peer
 * when it supports timers, else us).
 */
export function negotiateAsAnswerer(
  request: { sessionExpires: string | undefined; minSE: string | undefined; supported: readonly string[] },
  settings: SessionTimerSettings,
): SessionTimerVerdict {
  const expires = parseDelta(request.sessionExpires);
  const minSE = parseDelta(request.minSE);
  if (expires === null) return { kind: 'malformed', reason: 'Bad Session-Expires' };
  if (minSE === null) return { kind: 'malformed', reason: 'Bad Min-SE' };
  const peerSupports = namesOptionTag(request.supported, 'timer');
  let seconds: number;
  if (expires) {
    if (expires.seconds < settings.minSeconds) return { kind: 'too-small', minSeconds: settings.minSeconds };
    seconds = expires.seconds;
  } else {
    seconds = Math.max(settings.expiresSeconds, settings.minSeconds, minSE?.seconds ?? 0);
  }
  const asked = /;\s*refresher\s*=\s*(uac|uas)\b/i.exec(expires?.params ?? '')?.[1]?.toLowerCase();
  // The requester ("uac" of this transaction) is the peer.
  const refresher: RefreshingSide = asked === 'uas' ? 'us' : asked === 'uac' ? 'peer' : peerSupports ? 'peer' : 'us';
  const responseHeaders = [`Session-Expires: ${seconds};refresher=${refresher === 'peer' ? 'uac' : 'uas'}`];
  // Only a peer that supports timers may be required to refresh.
  if (refresher === 'peer' && peerSupports) responseHeaders.push('Require: timer');
  return { kind: 'use', interval: { seconds, refresher }, responseHeaders };
}

/**
 * The interval a 2xx to OUR refresh request settles on: its Session-Expires
 * (refresher=uac is us, the requester), else what we asked for.
 */
export function intervalFromAnswer(sessionExpires: string | undefined, asked: SessionInterval): SessionInterval {
  const parsed = parseDelta(sessionExpires);
  if (!parsed) return asked;
  const side = /;\s*refresher\s*=\s*(uac|uas)\b/i.exec(parsed.params)?.[1]?.toLowerCase();
  return { seconds: parsed.seconds, refresher: side === 'uas' ? 'peer' : 'us' };
}

/** The headers of a refresh request we send: we keep refreshing (refresher=uac, the requester). */
export function refreshRequestHeaders(interval: SessionInterval, minSeconds: number): string[] {
  return [`Session-Expires: ${interval.seconds};refresher=uac`, `Min-SE: ${minSeconds}`, 'Supported: timer'];
}

export interface SessionTimerHandlers {
  /** We are the refresher and half the interval has passed. */
  refreshDue(): void;
  /** The peer is the refresher and nothing refreshed the session in time. */
  expired(): void;
}

/**
 * The running timer. When the peer refreshes, the session is declared dead
 * at the interval minus min(32 s, a third of it) — RFC 4028 section 10's
 * margin for the refresh to arrive.
 */
export class SessionTimer {
  private timer: NodeJS.Timeout | undefined;
  private current: SessionInterval | undefined;

  constructor(
    private readonly handlers: SessionTimerHandlers,
    private readonly log: Logger,
  ) {}

  get interval(): SessionInterval | undefined {
    return this.current;
  }

  /** (Re)start for a freshly negotiated interval. */
  start(interval: SessionInterval): void {
    this.stop();
    this.current = interval;
    const ms = interval.seconds * 1000;
    if (interval.refresher === 'us') {
      this.timer = setTimeout(() => this.handlers.refreshDue(), ms / 2);
    } else {
      this.timer = setTimeout(() => this.handlers.expired(), ms - Math.min(32_000, ms / 3));
    }
    this.timer.unref();
    this.log.debug({ seconds: interval.seconds, refresher: interval.refresher }, 'session timer started');
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
