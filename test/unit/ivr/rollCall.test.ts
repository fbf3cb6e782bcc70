/**
 * Roll call's attribute combinations (004 conference_rollcall,
 * conference_rollcall_onenter/onexit, 001 announce_caller_name), which
 * level each is read from (the caller's attributes for the name, the
 * meeting-wide ones for the announcements), and the announcement wording.
 */
import { describe, expect, it } from 'vitest';
import { ResolvedAttributes } from '../../../src/conference/attributes/ResolvedAttributes.js';
import { rollCallPlan, rollCallSuffix } from '../../../src/ivr/rollCall.js';

const attrs = (room: Record<string, string>, didGroup: Record<string, string> = {}) =>
  new ResolvedAttributes({
    callFlowId: 3,
    didGroup: Object.entries(didGroup).map(([name, value]) => ({ name, value })),
    meetingRoom: Object.entries(room).map(([name, value]) => ({ name, value })),
  });

describe('rollCallPlan', () => {
  it('asks for no name and announces nothing by default', () => {
    expect(rollCallPlan(attrs({}))).toEqual({ recordName: false, announceEnter: false, announceExit: false });
  });

  it('conference_rollcall on: a name is recorded and, with the switches unset, announced on enter and exit', () => {
    expect(rollCallPlan(attrs({ conference_rollcall: 'on' }))).toEqual({ recordName: true, announceEnter: true, announceExit: true });
  });

  it('001 announce_caller_name (true/1) does the same', () => {
    expect(rollCallPlan(attrs({ announce_caller_name: 'true' }))).toEqual({ recordName: true, announceEnter: true, announceExit: true });
    expect(rollCallPlan(attrs({ announce_caller_name: '1' })).recordName).toBe(true);
  });

  it('onenter / onexit off silence each announcement on its own', () => {
    expect(rollCallPlan(attrs({ conference_rollcall: 'on', conference_rollcall_onenter: 'off' }))).toEqual({ recordName: true, announceEnter: false, announceExit: true });
    expect(rollCallPlan(attrs({ conference_rollcall: 'on', conference_rollcall_onexit: 'off' }))).toEqual({ recordName: true, announceEnter: true, announceExit: false });
    expect(rollCallPlan(attrs({ conference_rollcall: 'on', conference_rollcall_onenter: 'off', conference_rollcall_onexit: 'off' }))).toEqual({
      recordName: true,
      announceEnter: false,
      announceExit: false,
    });
  });

  it('onenter / onexit without roll call announce nothing: there is no name to say', () => {
    expect(rollCallPlan(attrs({ conference_rollcall_onenter: 'on', conference_rollcall_onexit: 'on' }))).toEqual({
      recordName: false,
      announceEnter: false,
      announceExit: false,
    });
  });

  it('the room overrides the DID group (off there, on here; and the other way round)', () => {
    expect(rollCallPlan(attrs({ conference_rollcall: 'on' }, { conference_rollcall: 'off' })).recordName).toBe(true);
    expect(rollCallPlan(attrs({ conference_rollcall: 'off' }, { conference_rollcall: 'on', conference_rollcall_onexit: 'off' }))).toEqual({
      recordName: false,
      announceEnter: false,
      announceExit: false,
    });
    expect(rollCallPlan(attrs({ conference_rollcall_onexit: 'on' }, { conference_rollcall: 'on', conference_rollcall_onexit: 'off' })).announceExit).toBe(true);
  });

  it('the announce switches are meeting-wide: the dialed DID group\'s own values do not change what the meeting hears', () => {
    // The caller dialed through a secondary DID group that turns the announcements off;
    // the meeting (room + primary group) leaves them unset, so they follow the recording.
    const caller = attrs({ conference_rollcall: 'on' }, { conference_rollcall_onenter: 'off', conference_rollcall_onexit: 'off' });
    const meeting = attrs({ conference_rollcall: 'on' });
    expect(rollCallPlan(caller, meeting)).toEqual({ recordName: true, announceEnter: true, announceExit: true });
    // The meeting's own switches decide, whatever the caller's group says.
    const quietMeeting = attrs({ conference_rollcall_onexit: 'off' }, { conference_rollcall_onenter: 'off' });
    expect(rollCallPlan(attrs({ conference_rollcall: 'on' }), quietMeeting)).toEqual({ recordName: true, announceEnter: false, announceExit: false });
    // Whether a name is asked for stays the caller's: nothing is announced without one.
    expect(rollCallPlan(attrs({}), attrs({ conference_rollcall: 'on' }))).toEqual({ recordName: false, announceEnter: false, announceExit: false });
  });

  it('seed 004 allows the switches on DID groups and rooms only: a DID\'s value is ignored', () => {
    const withDid = new ResolvedAttributes({
      callFlowId: 3,
      did: [{ name: 'conference_rollcall_onenter', value: 'off' }],
      meetingRoom: [{ name: 'conference_rollcall', value: 'on' }],
    });
    expect(withDid.get('conference_rollcall_onenter')).toBeUndefined();
    expect(rollCallPlan(withDid).announceEnter).toBe(true);
  });

  it('an unreadable value is ignored: the level below keeps its say', () => {
    expect(rollCallPlan(attrs({ conference_rollcall: 'maybe' }, { conference_rollcall: 'on' })).recordName).toBe(true);
  });
});

describe('rollCallSuffix', () => {
  it('says "has joined" on entry and "has left" on exit (Debian prompts)', () => {
    expect(rollCallSuffix('enter')).toBe('conf-hasjoin');
    expect(rollCallSuffix('exit')).toBe('conf-hasleft');
  });
});
