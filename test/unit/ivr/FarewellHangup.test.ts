/**
 * A call's last words (FarewellHangup), shared by dial-in calls and invited
 * callees: the prompts play off hold and uninterruptible, then the call is
 * hung up once; a lost prompt end is covered by the grace timer; the call
 * ending first cancels it; nothing to play (or a closed leg) hangs up at once.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { FarewellHangup } from '../../../src/ivr/FarewellHangup.js';
import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import type { Sound } from '../../../src/media/Sound.js';

const goodbye = [{ durationMs: 100 } as Sound];

function fakeLeg(state: { closed?: boolean; held?: boolean; playThrows?: boolean } = {}) {
  const plays: Array<{ sounds: Sound[]; interruptible: boolean | undefined }> = [];
  const leg = Object.assign(new EventEmitter(), {
    closed: state.closed ?? false,
    held: state.held ?? false,
    unhold: vi.fn(() => {
      leg.held = false;
    }),
    play: (sounds: Sound[], options: { interruptibleByDtmf?: boolean }) => {
      if (state.playThrows) throw new Error('leg closed');
      plays.push({ sounds, interruptible: options.interruptibleByDtmf });
      return plays.length + 40;
    },
  });
  return { leg, plays, done: (playbackId: number) => leg.emit('playbackDone', { playbackId, interrupted: false }) };
}

function farewellOn(leg: ReturnType<typeof fakeLeg>['leg'], graceMs = 3000) {
  const hangup = vi.fn<(reason: string) => void>();
  const leaving = vi.fn();
  const farewell = new FarewellHangup({ leg: leg as unknown as MediaLeg, hangup, leaving, graceMs });
  return { farewell, hangup, leaving };
}

describe('FarewellHangup', () => {
  it('plays the prompts uninterruptible and off hold, then hangs up when they end', () => {
    const { leg, plays, done } = fakeLeg({ held: true });
    const { farewell, hangup, leaving } = farewellOn(leg);
    expect(farewell.started).toBe(false);
    expect(farewell.say(goodbye, 'kicked')).toBe(true);
    expect(farewell.started).toBe(true);
    expect(leaving).toHaveBeenCalledOnce();
    expect(leg.unhold).toHaveBeenCalledOnce();
    expect(plays).toEqual([{ sounds: goodbye, interruptible: false }]);
    done(99); // another playback's end
    expect(hangup).not.toHaveBeenCalled();
    done(41);
    expect(hangup).toHaveBeenCalledExactlyOnceWith('kicked');
    // A second goodbye changes nothing.
    expect(farewell.say(goodbye, 'again')).toBe(false);
    expect(plays).toHaveLength(1);
    expect(leg.listenerCount('playbackDone')).toBe(0);
  });

  it('hangs up after the prompts plus the grace time when their end is never reported', () => {
    vi.useFakeTimers();
    try {
      const { leg } = fakeLeg();
      const { farewell, hangup } = farewellOn(leg, 500);
      farewell.say(goodbye, 'time up');
      vi.advanceTimersByTime(599);
      expect(hangup).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(hangup).toHaveBeenCalledExactlyOnceWith('time up');
    } finally {
      vi.useRealTimers();
    }
  });

  it('the call ending first cancels it: no hang-up, no timer left', () => {
    vi.useFakeTimers();
    try {
      const { leg, done } = fakeLeg();
      const { farewell, hangup } = farewellOn(leg);
      farewell.say(goodbye, 'kicked');
      farewell.cancel();
      done(41);
      vi.runAllTimers();
      expect(hangup).not.toHaveBeenCalled();
      expect(vi.getTimerCount()).toBe(0);
      expect(farewell.say(goodbye, 'later')).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('hangs up at once with nothing to play, a closed leg, or a leg that refuses to play', () => {
    for (const [sounds, state] of [
      [[], {}],
      [goodbye, { closed: true }],
      [goodbye, { playThrows: true }],
    ] as const) {
      const { leg, plays } = fakeLeg(state);
      const { farewell, hangup, leaving } = farewellOn(leg);
      farewell.say([...sounds], 'bye');
      expect(leaving).toHaveBeenCalledOnce();
      expect(hangup).toHaveBeenCalledExactlyOnceWith('bye');
      expect(plays).toEqual([]);
    }
  });
});
