import type { Logger } from '../log.js';
import type { MediaLeg } from '../media/MediaLeg.js';
import type { PlaybackDoneEvent } from '../media/MediaTypes.js';
import type { Sound } from '../media/Sound.js';

/** Longer than any farewell prompt: the call is hung up even if the prompt's end is never reported. */
export const FAREWELL_GRACE_MS = 3000;

export interface FarewellHangupOptions {
  leg: Pick<MediaLeg, 'closed' | 'held' | 'unhold' | 'play' | 'on' | 'off'>;
  /** Ends the call (our BYE); called at most once, after the prompts or at once without any. */
  hangup(reason: string): void;
  /**
   * Runs once as the farewell starts, before the prompts play: the owner
   * takes the caller out of the meeting and drops their keypad, so the
   * others stop hearing them and keys pressed during the goodbye act on
   * nothing. `started` is already true while it runs.
   */
  leaving?(): void;
  logger?: Logger;
  /** Added to the prompts' length before hanging up regardless; FAREWELL_GRACE_MS unless given. */
  graceMs?: number;
}

/**
 * A call's last words: plays farewell prompts on its media leg (not
 * interruptible, off hold first), then hangs up. A grace timer stands in
 * for a prompt end that is never reported, so the call is hung up whatever
 * happens; `cancel()` (the call ended first) stops waiting without hanging
 * up. Used by dial-in calls (CallSession) and invited callees (SipDialer)
 * alike; it says goodbye once, later requests are ignored.
 */
export class FarewellHangup {
  private state: 'idle' | 'playing' | 'done' = 'idle';
  private reason = '';
  private playbackId: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly onPlaybackDone = (event: PlaybackDoneEvent): void => {
    if (event.playbackId === this.playbackId) this.finish();
  };

  constructor(private readonly options: FarewellHangupOptions) {}

  /** True once `say()` was called or the call ended (`cancel()`): the caller is leaving or gone. */
  get started(): boolean {
    return this.state !== 'idle';
  }

  /**
   * Plays `sounds`, then hangs up with `reason` (at once when there is
   * nothing to play or the leg is closed). False when a farewell already
   * started: the first one stands.
   */
  say(sounds: Sound[], reason: string): boolean {
    if (this.state !== 'idle') return false;
    this.state = 'playing';
    this.reason = reason;
    this.options.leaving?.();
    const { leg } = this.options;
    if (this.state !== 'playing') return true; // the call ended inside leaving()
    if (leg.closed || sounds.length === 0) {
      this.finish();
      return true;
    }
    try {
      if (leg.held) leg.unhold();
      leg.on('playbackDone', this.onPlaybackDone);
      this.playbackId = leg.play(sounds, { interruptibleByDtmf: false });
    } catch (err) {
      // No goodbye to be heard: the call still ends.
      this.options.logger?.warn({ err, reason }, 'farewell prompt not played, hanging up');
      this.finish();
      return true;
    }
    const totalMs = sounds.reduce((ms, sound) => ms + sound.durationMs, 0);
    this.timer = setTimeout(() => this.finish(), totalMs + (this.options.graceMs ?? FAREWELL_GRACE_MS));
    return true;
  }

  /** The call ended: nothing more to wait for, and no hang-up. */
  cancel(): void {
    this.state = 'done';
    this.stopWaiting();
  }

  private finish(): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.stopWaiting();
    this.options.hangup(this.reason);
  }

  private stopWaiting(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.playbackId = undefined;
    this.options.leg.off('playbackDone', this.onPlaybackDone);
  }
}
