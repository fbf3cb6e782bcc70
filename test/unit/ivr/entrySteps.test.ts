/**
 * The call flow's pure entry decisions: greeting prompts by count and
 * waiting, PINs, the operator threshold, and farewells.
 */
import { describe, expect, it } from 'vitest';
import { ResolvedAttributes } from '../../../src/conference/attributes/ResolvedAttributes.js';
import { accessCodeAttempts, entryPrompts, FAREWELL_PROMPTS, roleForPin, roomPins } from '../../../src/ivr/entrySteps.js';

const attrs = (room: Record<string, string>, didGroup: Record<string, string> = {}) =>
  new ResolvedAttributes({
    callFlowId: 3,
    didGroup: Object.entries(didGroup).map(([name, value]) => ({ name, value })),
    meetingRoom: Object.entries(room).map(([name, value]) => ({ name, value })),
  });

describe('entryPrompts', () => {
  it('says nothing when the role is not in call_announceparticipantcount', () => {
    expect(entryPrompts({ waiting: false, others: 3, announceCount: false })).toEqual([]);
  });

  it('says the caller is alone, or how many others there are, with the digits prompts', () => {
    expect(entryPrompts({ waiting: false, others: 0, announceCount: true })).toEqual(['conf-onlyperson']);
    expect(entryPrompts({ waiting: false, others: 1, announceCount: true })).toEqual(['conf-onlyone']);
    expect(entryPrompts({ waiting: false, others: 4, announceCount: true })).toEqual(['conf-thereare', 'digits/4', 'conf-otherinparty']);
    expect(entryPrompts({ waiting: false, others: 25, announceCount: true })).toEqual(['conf-thereare', 'digits/20', 'digits/5', 'conf-otherinparty']);
  });

  it('tells a caller waiting for the host that they wait, whatever the count setting', () => {
    expect(entryPrompts({ waiting: true, others: 2, announceCount: false })).toEqual(['conf-waitforleader']);
    expect(entryPrompts({ waiting: true, others: 2, announceCount: true })).toEqual(['conf-waitforleader']);
  });

  it('reads who hears the count from call_announceparticipantcount', () => {
    const a = attrs({ call_announceparticipantcount: 'h' });
    expect(a.allows('call_announceparticipantcount', 'host')).toBe(true);
    expect(a.allows('call_announceparticipantcount', 'participant')).toBe(false);
  });
});

describe('PINs (001 pin, moderator_pin)', () => {
  it('asks nothing when the room has no PIN', () => {
    expect(roomPins(attrs({}))).toBeUndefined();
  });

  it('the room PIN keeps the key role, the moderator PIN makes a host, anything else is wrong', () => {
    const pins = roomPins(attrs({ pin: '4321', moderator_pin: '9999' }))!;
    expect(roleForPin('4321', pins, 'participant')).toBe('participant');
    expect(roleForPin('4321', pins, 'listener')).toBe('listener');
    expect(roleForPin('9999', pins, 'participant')).toBe('host');
    expect(roleForPin('1234', pins, 'participant')).toBeUndefined();
    expect(roleForPin('', pins, 'participant')).toBeUndefined();
  });

  it('a room with only a moderator PIN still asks, and only that PIN opens it', () => {
    const pins = roomPins(attrs({ moderator_pin: '77' }))!;
    expect(roleForPin('77', pins, 'listener')).toBe('host');
    expect(roleForPin('', pins, 'listener')).toBeUndefined();
  });

  it('can be set for all rooms of a DID group', () => {
    expect(roomPins(attrs({}, { pin: '11' }))).toEqual({ pin: '11', moderatorPin: '' });
  });
});

describe('accessCodeAttempts (004 call_operator_after)', () => {
  it('takes the DID group value, -1 for unlimited, else the configured count', () => {
    expect(accessCodeAttempts(attrs({}), 3)).toBe(3);
    expect(accessCodeAttempts(attrs({}, { call_operator_after: '5' }), 3)).toBe(5);
    expect(accessCodeAttempts(attrs({}, { call_operator_after: '-1' }), 3)).toBe(Infinity);
    // Not allowed on the room: ignored.
    expect(accessCodeAttempts(attrs({ call_operator_after: '1' }), 3)).toBe(3);
  });
});

describe('farewells', () => {
  it('tells callers the leader left before goodbye; other ends just say goodbye', () => {
    expect(FAREWELL_PROMPTS.leaderLeft).toEqual(['conf-leaderhasleft', 'goodbye']);
    expect(FAREWELL_PROMPTS.timeUp).toEqual(['goodbye']);
    expect(FAREWELL_PROMPTS.goodbye).toEqual(['goodbye']);
  });
});
