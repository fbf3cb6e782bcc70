/**
 * Meeting policies without sockets: the start/stop state machine
 * (MeetingLifecycle) and the pure rules read from attributes (limits, entry
 * state per role).
 */
import { describe, expect, it } from 'vitest';
import { ResolvedAttributes } from '../../../src/conference/attributes/ResolvedAttributes.js';
import { MeetingLifecycle } from '../../../src/conference/MeetingLifecycle.js';
import type { MeetingRules } from '../../../src/conference/MeetingRules.js';
import { admissionLimitsFrom, admissionRefusal, entryStateFor, meetingRulesFrom, OPEN_MEETING } from '../../../src/conference/MeetingRules.js';

const attrs = (values: Record<string, string>) =>
  new ResolvedAttributes({ callFlowId: 3, meetingRoom: Object.entries(values).map(([name, value]) => ({ name, value })) });
const rules = (changes: Partial<MeetingRules>): MeetingRules => ({ ...OPEN_MEETING, ...changes });

describe('meetingRulesFrom', () => {
  it('reads start, stop, durations and music while alone from the attributes', () => {
    expect(meetingRulesFrom(attrs({}))).toEqual(OPEN_MEETING);
    expect(
      meetingRulesFrom(
        attrs({
          conference_start_how: 'moderator',
          conference_start_wait: '30',
          conference_stop_how: 'moderator',
          conference_stop_wait: '5',
          conference_maxduration: '3600',
          music_on_hold_sound: 'on',
        }),
      ),
    ).toEqual({ startHow: 'moderator', startWaitMs: 30_000, stopHow: 'moderator', stopWaitMs: 5000, maxDurationMs: 3_600_000, musicWhileAlone: 'on' });
    expect(meetingRulesFrom(attrs({ conference_maxduration: '-1', music_on_hold_sound: 'off' }))).toMatchObject({ maxDurationMs: undefined, musicWhileAlone: undefined });
  });
});

describe('admission', () => {
  const none = { host: 0, participant: 0, listener: 0 };
  it('refuses non-hosts of a locked meeting and admits its hosts', () => {
    const limits = admissionLimitsFrom(attrs({}));
    expect(admissionRefusal({ role: 'participant', locked: true, counts: none, limits })).toBe('locked');
    expect(admissionRefusal({ role: 'listener', locked: true, counts: none, limits })).toBe('locked');
    expect(admissionRefusal({ role: 'host', locked: true, counts: none, limits })).toBeUndefined();
  });

  it('applies conference_maxcalls to everyone', () => {
    const limits = admissionLimitsFrom(attrs({ conference_maxcalls: '2' }));
    expect(admissionRefusal({ role: 'participant', locked: false, counts: { ...none, participant: 1 }, limits })).toBeUndefined();
    expect(admissionRefusal({ role: 'host', locked: false, counts: { ...none, participant: 2 }, limits })).toBe('full');
  });

  it('applies 001 max_members', () => {
    const limits = admissionLimitsFrom(attrs({ max_members: '3' }));
    expect(admissionRefusal({ role: 'listener', locked: false, counts: { host: 1, participant: 1, listener: 0 }, limits })).toBeUndefined();
    expect(admissionRefusal({ role: 'listener', locked: false, counts: { host: 1, participant: 1, listener: 1 }, limits })).toBe('full');
  });

  it('applies conference_maxcallsperrole per role, -1 being no limit', () => {
    const limits = admissionLimitsFrom(attrs({ conference_maxcallsperrole: '1:-1:0' }));
    expect(admissionRefusal({ role: 'host', locked: false, counts: none, limits })).toBeUndefined();
    expect(admissionRefusal({ role: 'host', locked: false, counts: { ...none, host: 1 }, limits })).toBe('full');
    expect(admissionRefusal({ role: 'participant', locked: false, counts: { host: 1, participant: 500, listener: 0 }, limits })).toBeUndefined();
    expect(admissionRefusal({ role: 'listener', locked: false, counts: none, limits })).toBe('full');
  });
});

describe('entryStateFor', () => {
  it('mutes the roles of conference_mute_policy', () => {
    const a = attrs({ conference_mute_policy: 'pl' });
    expect(entryStateFor('participant', a)).toEqual({ muted: true, deaf: false, held: false });
    expect(entryStateFor('host', a).muted).toBe(false);
  });

  it('mutes everyone but hosts with 001 mute_non_moderator', () => {
    const a = attrs({ mute_non_moderator: 'on' });
    expect(entryStateFor('participant', a).muted).toBe(true);
    expect(entryStateFor('listener', a).muted).toBe(true);
    expect(entryStateFor('host', a).muted).toBe(false);
  });

  it('follows 003 join_muted / join_deaf for members and moderators separately', () => {
    const a = attrs({ member_join_muted: 'on', moderator_join_deaf: 'on' });
    expect(entryStateFor('participant', a)).toEqual({ muted: true, deaf: false, held: false });
    expect(entryStateFor('host', a)).toEqual({ muted: false, deaf: true, held: false });
    const b = attrs({ member_join_deaf: 'true', moderator_join_muted: 'true' });
    expect(entryStateFor('listener', b)).toEqual({ muted: false, deaf: true, held: false });
    expect(entryStateFor('host', b)).toEqual({ muted: true, deaf: false, held: false });
  });

  it('holds the roles of conference_hold_policy', () => {
    const a = attrs({ conference_hold_policy: 'l' });
    expect(entryStateFor('listener', a).held).toBe(true);
    expect(entryStateFor('participant', a).held).toBe(false);
  });
});

describe('MeetingLifecycle', () => {
  it('starts with the first caller by default: nobody waits', () => {
    const life = new MeetingLifecycle(OPEN_MEETING);
    expect(life.handle({ type: 'opened' })).toEqual([]);
    expect(life.started).toBe(true);
    expect(life.handle({ type: 'joined', id: 1, role: 'participant' })).toEqual([]);
    expect(life.isWaiting(1)).toBe(false);
  });

  it('start_how moderator: participants wait on hold until a host arrives, then all are released', () => {
    const life = new MeetingLifecycle(rules({ startHow: 'moderator' }));
    expect(life.wouldWait('participant')).toBe(true);
    expect(life.wouldWait('host')).toBe(false);
    expect(life.handle({ type: 'joined', id: 1, role: 'participant' })).toEqual([{ type: 'wait', id: 1 }]);
    expect(life.handle({ type: 'joined', id: 2, role: 'listener' })).toEqual([{ type: 'wait', id: 2 }]);
    expect(life.started).toBe(false);
    expect(life.handle({ type: 'joined', id: 3, role: 'host' })).toEqual([{ type: 'release', ids: [1, 2] }]);
    expect(life.started).toBe(true);
    expect(life.handle({ type: 'joined', id: 4, role: 'participant' })).toEqual([]);
  });

  it('start_wait starts a meeting without its host once the first waiter has waited long enough', () => {
    const life = new MeetingLifecycle(rules({ startHow: 'moderator', startWaitMs: 30_000 }));
    expect(life.handle({ type: 'joined', id: 1, role: 'participant' })).toEqual([
      { type: 'wait', id: 1 },
      { type: 'startTimer', timer: 'startWait', ms: 30_000 },
    ]);
    // A second waiter does not restart the clock.
    expect(life.handle({ type: 'joined', id: 2, role: 'participant' })).toEqual([{ type: 'wait', id: 2 }]);
    expect(life.handle({ type: 'timer', timer: 'startWait' })).toEqual([{ type: 'release', ids: [1, 2] }]);
    // A host arriving before the wait is over cancels it.
    const early = new MeetingLifecycle(rules({ startHow: 'moderator', startWaitMs: 30_000 }));
    early.handle({ type: 'joined', id: 1, role: 'participant' });
    expect(early.handle({ type: 'joined', id: 2, role: 'host' })).toEqual([
      { type: 'cancelTimer', timer: 'startWait' },
      { type: 'release', ids: [1] },
    ]);
    expect(early.handle({ type: 'timer', timer: 'startWait' })).toEqual([]);
  });

  it('start_how explicit: even a host does not start it; a start command does', () => {
    const life = new MeetingLifecycle(rules({ startHow: 'explicit' }));
    life.handle({ type: 'joined', id: 1, role: 'participant' });
    expect(life.handle({ type: 'joined', id: 2, role: 'host' })).toEqual([]);
    expect(life.isWaiting(2)).toBe(false);
    expect(life.started).toBe(false);
    expect(life.handle({ type: 'start' })).toEqual([{ type: 'release', ids: [1] }]);
    expect(life.handle({ type: 'start' })).toEqual([]);
  });

  it('a waiter who hangs up is not released later', () => {
    const life = new MeetingLifecycle(rules({ startHow: 'moderator' }));
    life.handle({ type: 'joined', id: 1, role: 'participant' });
    life.handle({ type: 'joined', id: 2, role: 'participant' });
    life.handle({ type: 'left', id: 1, role: 'participant' });
    expect(life.handle({ type: 'joined', id: 3, role: 'host' })).toEqual([{ type: 'release', ids: [2] }]);
  });

  it('stop_how moderator: the last host leaving announces it and ends the meeting after stop_wait', () => {
    const life = new MeetingLifecycle(rules({ stopHow: 'moderator', stopWaitMs: 5000 }));
    life.handle({ type: 'joined', id: 1, role: 'host' });
    life.handle({ type: 'joined', id: 2, role: 'host' });
    life.handle({ type: 'joined', id: 3, role: 'participant' });
    // One host of two leaving changes nothing.
    expect(life.handle({ type: 'left', id: 1, role: 'host' })).toEqual([]);
    expect(life.handle({ type: 'left', id: 2, role: 'host' })).toEqual([
      { type: 'announceLeaderLeft' },
      { type: 'startTimer', timer: 'stopWait', ms: 5000 },
    ]);
    expect(life.handle({ type: 'timer', timer: 'stopWait' })).toEqual([{ type: 'end', farewell: 'goodbye' }]);
    // Ended: nothing more happens.
    expect(life.handle({ type: 'joined', id: 4, role: 'host' })).toEqual([]);
  });

  it('stop_how moderator: a host coming back within stop_wait keeps the meeting', () => {
    const life = new MeetingLifecycle(rules({ stopHow: 'moderator', stopWaitMs: 5000 }));
    life.handle({ type: 'joined', id: 1, role: 'host' });
    life.handle({ type: 'joined', id: 2, role: 'participant' });
    life.handle({ type: 'left', id: 1, role: 'host' });
    expect(life.handle({ type: 'joined', id: 3, role: 'host' })).toEqual([{ type: 'cancelTimer', timer: 'stopWait' }]);
    expect(life.handle({ type: 'timer', timer: 'stopWait' })).toEqual([]);
  });

  it('stop_how moderator with no stop_wait ends at once with the leader-left farewell', () => {
    const life = new MeetingLifecycle(rules({ stopHow: 'moderator' }));
    life.handle({ type: 'joined', id: 1, role: 'host' });
    life.handle({ type: 'joined', id: 2, role: 'participant' });
    expect(life.handle({ type: 'left', id: 1, role: 'host' })).toEqual([{ type: 'end', farewell: 'leaderLeft' }]);
  });

  it('stop_how last: the last host leaving changes nothing', () => {
    const life = new MeetingLifecycle(rules({ stopHow: 'last', stopWaitMs: 5000 }));
    life.handle({ type: 'joined', id: 1, role: 'host' });
    life.handle({ type: 'joined', id: 2, role: 'participant' });
    expect(life.handle({ type: 'left', id: 1, role: 'host' })).toEqual([]);
  });

  it('conference_maxduration ends the meeting with the time-up farewell', () => {
    const life = new MeetingLifecycle(rules({ maxDurationMs: 60_000 }));
    expect(life.handle({ type: 'opened' })).toEqual([{ type: 'startTimer', timer: 'maxDuration', ms: 60_000 }]);
    life.handle({ type: 'joined', id: 1, role: 'participant' });
    expect(life.handle({ type: 'timer', timer: 'maxDuration' })).toEqual([{ type: 'end', farewell: 'timeUp' }]);
  });

  it('music while alone: the lone caller of a started meeting hears it until someone joins, and again when alone', () => {
    const life = new MeetingLifecycle(rules({ musicWhileAlone: 'on' }));
    expect(life.handle({ type: 'joined', id: 1, role: 'participant' })).toEqual([{ type: 'aloneMusic', id: 1, on: true }]);
    expect(life.handle({ type: 'joined', id: 2, role: 'participant' })).toEqual([{ type: 'aloneMusic', id: 1, on: false }]);
    expect(life.handle({ type: 'left', id: 1, role: 'participant' })).toEqual([{ type: 'aloneMusic', id: 2, on: true }]);
    // Without music_on_hold_sound, no music.
    expect(new MeetingLifecycle(OPEN_MEETING).handle({ type: 'joined', id: 1, role: 'host' })).toEqual([]);
  });
});
