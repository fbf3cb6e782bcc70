/**
 * ConferenceManager with its MeetingSupervisor, without sockets: a fake leg
 * and media room record what the meeting asks of the media plane; timers
 * are vitest's fake ones. Covers admission limits, entry state, waiting for
 * the host, music while alone and the rule-driven end with farewells.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConferenceManager } from '../../../src/conference/ConferenceManager.js';
import type { JoinPolicy, MeetingSounds } from '../../../src/conference/ConferenceTypes.js';
import { MeetingFullError, MeetingLockedError } from '../../../src/conference/ConferenceTypes.js';
import type { MeetingRules } from '../../../src/conference/MeetingRules.js';
import { NO_LIMITS, OPEN_MEETING } from '../../../src/conference/MeetingRules.js';
import type { Role } from '../../../src/conference/Role.js';
import { silentLogger } from '../../../src/log.js';
import type { MediaEngine } from '../../../src/media/MediaEngine.js';
import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import type { MeetingRoom } from '../../../src/store/StoreTypes.js';
import { NAMED_SOUNDS, RecordingLeg, sound } from '../../support/recordingLeg.js';

const SOUNDS: MeetingSounds = { ...NAMED_SOUNDS, aloneMusic: (name) => [sound(`alone:${name}`)] };
const ROOM = { meetingNumber: 3000, attributes: [] } as unknown as MeetingRoom;
const media = { createRoom: () => ({ close() {} }) } as unknown as MediaEngine;

function policy(rules: Partial<MeetingRules> = {}, limits = NO_LIMITS): JoinPolicy {
  return { rules: { ...OPEN_MEETING, ...rules }, limits, joinNotifications: false };
}

function setup() {
  const manager = new ConferenceManager(media, silentLogger(), SOUNDS);
  let calls = 0;
  const join = (role: Role, joinPolicy: JoinPolicy, entry?: { muted?: boolean; deaf?: boolean; held?: boolean }) => {
    const leg = new RecordingLeg();
    const joined = manager.join(
      ROOM,
      { callId: `c${++calls}`, role, accessCode: '1', caller: 'x', callee: 'y', leg: leg as unknown as MediaLeg, ...(entry ? { entry } : {}) },
      joinPolicy,
    );
    const hangups: Array<[string, string | undefined]> = [];
    const notices: string[] = [];
    joined.participant.on('hangupRequested', (reason, farewell) => hangups.push([reason, farewell]));
    joined.participant.on('notice', (notice) => notices.push(notice));
    return { ...joined, leg, hangups, notices };
  };
  return { manager, join };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('ConferenceManager admission', () => {
  it('refuses a caller over conference_maxcalls / max_members / the per-role limit, changing nothing', () => {
    const { manager, join } = setup();
    const limits = { maxCalls: 2, maxMembers: -1, perRole: { host: 1, participant: -1, listener: -1 } };
    join('host', policy({}, limits));
    expect(() => join('host', policy({}, limits))).toThrow(MeetingFullError);
    join('participant', policy({}, limits));
    expect(() => join('listener', policy({}, limits))).toThrow(MeetingFullError);
    expect(manager.getMeeting(3000)!.participants).toHaveLength(2);
  });

  it('refuses everybody when a limit is 0, and leaves no empty meeting behind', () => {
    const { manager, join } = setup();
    expect(() => join('host', policy({}, { ...NO_LIMITS, maxMembers: 0 }))).toThrow(MeetingFullError);
    expect(manager.getMeeting(3000)).toBeUndefined();
  });

  it('says "locked" rather than "full" to a non-host of a locked meeting, and lets a host in', () => {
    const { manager, join } = setup();
    join('host', policy());
    manager.getMeeting(3000)!.lock();
    expect(() => join('participant', policy())).toThrow(MeetingLockedError);
    expect(join('host', policy()).participant.role).toBe('host');
  });

  it('applies the entry state: muted, deaf and held before the first frame', () => {
    const { join } = setup();
    const muted = join('participant', policy(), { muted: true });
    expect(muted.participant.muted).toBe(true);
    expect(muted.leg.membership).toEqual({ speak: false, hear: true });
    const deaf = join('participant', policy(), { deaf: true });
    expect(deaf.leg.membership).toEqual({ speak: true, hear: false });
    const held = join('listener', policy(), { held: true });
    expect(held.participant.held).toBe(true);
    expect(held.leg.heldWith).toEqual([sound('music')]);
  });
});

describe('ConferenceManager entry and exit tones', () => {
  it('follows the first caller\'s conference_entrytones/exittones (any level), not only the room\'s own attributes', () => {
    const { manager, join } = setup();
    const tones = { ...policy(), joinNotifications: true };
    const alice = join('participant', tones);
    join('participant', tones);
    expect(manager.getMeeting(3000)!.joinNotifications).toBe(true);
    expect(alice.leg.played).toEqual([[sound('entry')]]);
  });

  it('plays no tones when the attributes leave them off', () => {
    const { join } = setup();
    const alice = join('participant', policy());
    join('participant', policy());
    expect(alice.leg.played).toEqual([]);
  });
});

describe('MeetingSupervisor', () => {
  it('holds callers until the host arrives, then releases them and tells them', () => {
    const { manager, join } = setup();
    const rules = policy({ startHow: 'moderator' });
    const alice = join('participant', rules);
    expect(alice.waiting).toBe(true);
    expect(alice.participant.held).toBe(true);
    expect(alice.leg.held).toBe(true);
    const meeting = manager.getMeeting(3000)!;
    expect(manager.isStarted(meeting)).toBe(false);
    const host = join('host', rules);
    expect(host.waiting).toBe(false);
    expect(alice.participant.held).toBe(false);
    expect(alice.leg.held).toBe(false);
    expect(alice.notices).toEqual(['meetingStarted']);
    expect(manager.isStarted(meeting)).toBe(true);
  });

  it('starts after conference_start_wait without a host', () => {
    const { join } = setup();
    const alice = join('participant', policy({ startHow: 'moderator', startWaitMs: 10_000 }));
    vi.advanceTimersByTime(9_999);
    expect(alice.participant.held).toBe(true);
    vi.advanceTimersByTime(1);
    expect(alice.participant.held).toBe(false);
  });

  it('explicit start: startMeetingNow releases the waiting callers', () => {
    const { manager, join } = setup();
    const alice = join('participant', policy({ startHow: 'explicit' }));
    join('host', policy({ startHow: 'explicit' }));
    expect(alice.participant.held).toBe(true);
    expect(manager.startMeetingNow(3000)).toBe(true);
    expect(alice.participant.held).toBe(false);
    expect(manager.startMeetingNow(4242)).toBe(false);
  });

  it('a meeting on hold (*96) keeps its waiting callers held when it starts', () => {
    const { manager, join } = setup();
    const alice = join('participant', policy({ startHow: 'moderator' }));
    manager.getMeeting(3000)!.setHeld(true, 'operator');
    join('host', policy({ startHow: 'moderator' }));
    expect(alice.participant.held).toBe(true);
  });

  it('plays music to a lone caller and stops it when someone joins (001 music_on_hold_sound)', () => {
    const { join } = setup();
    const rules = policy({ musicWhileAlone: 'macroform-the_simplicity' });
    const alice = join('participant', rules);
    expect(alice.leg.held).toBe(true);
    expect(alice.leg.heldWith).toEqual([sound('alone:macroform-the_simplicity')]);
    expect(alice.participant.held).toBe(false);
    join('participant', rules);
    expect(alice.leg.held).toBe(false);
  });

  it('stop_how moderator: the others hear that the leader left, then are asked to hang up after the stop wait', () => {
    const { manager, join } = setup();
    const rules = policy({ stopHow: 'moderator', stopWaitMs: 3000 });
    const host = join('host', rules);
    const alice = join('participant', rules);
    const meeting = manager.getMeeting(3000)!;
    meeting.leave(host.participant);
    expect(alice.notices).toEqual(['leaderLeft']);
    expect(alice.hangups).toEqual([]);
    vi.advanceTimersByTime(3000);
    expect(alice.hangups).toEqual([['meeting ended (goodbye)', 'goodbye']]);
    // A call that never hangs up does not keep the meeting alive for ever.
    vi.advanceTimersByTime(30_000);
    expect(meeting.ended).toBe(true);
  });

  it('conference_maxduration asks everyone to hang up with the time-up farewell', () => {
    const { join } = setup();
    const rules = policy({ maxDurationMs: 60_000 });
    const alice = join('participant', rules);
    const bob = join('host', rules);
    vi.advanceTimersByTime(60_000);
    expect(alice.hangups).toEqual([['meeting ended (timeUp)', 'timeUp']]);
    expect(bob.hangups).toEqual([['meeting ended (timeUp)', 'timeUp']]);
  });

  it('forgets its timers when the meeting ends', () => {
    const { manager, join } = setup();
    const alice = join('participant', policy({ maxDurationMs: 60_000 }));
    manager.getMeeting(3000)!.end();
    vi.advanceTimersByTime(120_000);
    expect(alice.hangups).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
