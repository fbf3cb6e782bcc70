/**
 * The meeting-wide attributes (resolveMeetingAttributes): the room's primary
 * DID group (and its call flow), the room and the live meeting; never the
 * group or DID a caller happened to dial. The per-call resolution
 * (resolveAttributes) keeps the dialed group and DID.
 */
import { describe, expect, it } from 'vitest';
import { resolveAttributes, resolveMeetingAttributes } from '../../../src/conference/attributes/ResolvedAttributes.js';
import { admissionLimitsFrom, meetingRulesFrom, qaPolicyFrom } from '../../../src/conference/MeetingRules.js';
import type { Attribute, Did, DidGroup, MeetingRoom } from '../../../src/store/StoreTypes.js';

const a = (name: string, value: string): Attribute => ({ name, value });

const GROUPS: Record<number, DidGroup> = {
  // The room's primary group: SPECTEL (entry/exit tones on by its template), hosts start the meeting.
  1: { id: 1, name: 'primary', description: '', callFlowId: 1, attributes: [a('conference_start_how', 'moderator'), a('conference_maxcalls', '10')] },
  // Another group that reaches the same room: CONF, open meetings, other limits.
  2: { id: 2, name: 'secondary', description: '', callFlowId: 3, attributes: [a('conference_start_how', 'first'), a('conference_maxcalls', '3'), a('conference_language', 'FR')] },
};
const store = { getDidGroup: (id: number) => GROUPS[id] };
const room = { meetingNumber: 1000, primaryDidGroupId: 1, attributes: [a('conference_maxcallsperrole', '2:5:-1')] } as unknown as MeetingRoom;
const did = (didGroupId: number, attributes: Attribute[] = []): Did => ({ id: didGroupId * 10, didGroupId, phoneNumber: `1555000${didGroupId}`, description: '', attributes }) as Did;

describe('resolveMeetingAttributes', () => {
  it('reads the primary DID group, its call flow and the room', () => {
    const meeting = resolveMeetingAttributes({ store, room });
    expect(meetingRulesFrom(meeting).startHow).toBe('moderator');
    expect(admissionLimitsFrom(meeting)).toMatchObject({ maxCalls: 10, perRole: { host: 2, participant: 5, listener: -1 } });
    // SPECTEL's template turns entry and exit tones on.
    expect(meeting.isOn('conference_entrytones')).toBe(true);
    expect(meeting.levelOf('conference_entrytones')).toBe('callFlow');
  });

  it('is the same whichever group the first caller dialed, while the call itself keeps its dialed group', () => {
    const viaSecondary = resolveAttributes({ store, did: did(2), room });
    const viaPrimary = resolveAttributes({ store, did: did(1), room });
    // Per call: the dialed group counts (its language, its rules as the caller sees them).
    expect(viaSecondary.text('conference_language')).toBe('FR');
    expect(meetingRulesFrom(viaSecondary).startHow).not.toBe(meetingRulesFrom(viaPrimary).startHow);
    // Meeting-wide: one answer.
    const meeting = resolveMeetingAttributes({ store, room });
    expect(meetingRulesFrom(meeting)).toEqual(meetingRulesFrom(resolveMeetingAttributes({ store, room })));
    expect(meeting.text('conference_language')).toBe('EN');
    expect(admissionLimitsFrom(meeting).maxCalls).toBe(10);
  });

  it('the room overrides its group and the live meeting overrides the room', () => {
    const roomOverride = { ...room, attributes: [a('conference_start_how', 'explicit')] } as MeetingRoom;
    expect(meetingRulesFrom(resolveMeetingAttributes({ store, room: roomOverride })).startHow).toBe('explicit');
    const live = resolveMeetingAttributes({ store, room: roomOverride, meeting: [a('conference_start_how', 'first')] });
    expect(meetingRulesFrom(live).startHow).toBe('first');
  });

  it('a room whose primary group is gone falls back to the CONF call flow and its own values', () => {
    const orphan = { ...room, primaryDidGroupId: 99 } as MeetingRoom;
    const meeting = resolveMeetingAttributes({ store, room: orphan });
    expect(meeting.isOn('conference_entrytones')).toBe(false);
    expect(admissionLimitsFrom(meeting).perRole.host).toBe(2);
  });

  it('carries the Q&A policy of the primary DID group or the room; unset, the meeting keeps its default', () => {
    const groupWithQa = { getDidGroup: (id: number) => (id === 1 ? { ...GROUPS[1]!, attributes: [a('conference_qa_policy', 'PL')] } : undefined) };
    expect(qaPolicyFrom(resolveMeetingAttributes({ store: groupWithQa, room }))).toEqual({ qaPolicy: 'pl' });
    const roomQa = { ...room, attributes: [a('conference_qa_policy', 'l')] } as MeetingRoom;
    expect(qaPolicyFrom(resolveMeetingAttributes({ store: groupWithQa, room: roomQa }))).toEqual({ qaPolicy: 'l' });
    expect(qaPolicyFrom(resolveMeetingAttributes({ store, room }))).toEqual({});
    // A value its kind cannot read is ignored by the resolver: the default again.
    const bad = { ...room, attributes: [a('conference_qa_policy', 'xyz')] } as MeetingRoom;
    expect(qaPolicyFrom(resolveMeetingAttributes({ store, room: bad }))).toEqual({});
  });
});
