/**
 * Meeting-wide state in src/conference, without sockets: a fake leg records
 * what the meeting asks of the media plane (membership, hold, gain, tones).
 */
import { describe, expect, it } from 'vitest';
import { MeetingLockedError } from '../../../src/conference/ConferenceTypes.js';
import { Meeting } from '../../../src/conference/Meeting.js';
import { gainDbForLevel, isGainLevel } from '../../../src/conference/MeetingPolicy.js';
import type { Role } from '../../../src/conference/Role.js';
import { createRootLogger } from '../../../src/log.js';
import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import type { MediaRoom } from '../../../src/media/MediaRoom.js';
import type { MeetingRoom } from '../../../src/store/StoreTypes.js';
import { NAMED_SOUNDS, RecordingLeg, sound } from '../../support/recordingLeg.js';

function room(attributes: Array<{ name: string; value: string }> = []): MeetingRoom {
  return { meetingNumber: 1000, attributes } as unknown as MeetingRoom;
}

function setup(attributes: Array<{ name: string; value: string }> = []) {
  const mediaRoom = { close() {} } as unknown as MediaRoom;
  let next = 0;
  const meeting = new Meeting(room(attributes), mediaRoom, () => ++next, createRootLogger('silent'), NAMED_SOUNDS);
  const join = (role: Role) => {
    const leg = new RecordingLeg();
    const participant = meeting.join({ callId: `c${next + 1}`, role, accessCode: '1', caller: 'x', callee: 'y', leg: leg as unknown as MediaLeg });
    return { participant, leg };
  };
  return { meeting, join };
}

describe('Meeting: mute all but hosts', () => {
  it('mutes participants and listeners, never hosts, and reports who changed', () => {
    const { meeting, join } = setup();
    const host = join('host');
    const alice = join('participant');
    const bob = join('participant');
    const lena = join('listener');
    const events: Array<[string, boolean, string]> = [];
    for (const p of [host, alice, bob, lena]) p.participant.on('muteChanged', (muted, by) => events.push([p.participant.callId, muted, by]));

    meeting.updateParticipant(bob.participant, { muted: true }, 'self');
    events.length = 0;
    const changed = meeting.muteAllButHosts(true, 'host');
    expect(changed.map((p) => p.id)).toEqual([alice.participant.id, lena.participant.id]);
    expect(events).toEqual([
      [alice.participant.callId, true, 'host'],
      [lena.participant.callId, true, 'host'],
    ]);
    expect(host.participant.muted).toBe(false);
    expect(host.leg.membership).toEqual({ speak: true, hear: true });
    expect(alice.leg.membership).toEqual({ speak: false, hear: true });
    expect(bob.leg.membership).toEqual({ speak: false, hear: true });

    const unmuted = meeting.muteAllButHosts(false, 'host');
    expect(unmuted.map((p) => p.id).sort()).toEqual([alice.participant.id, bob.participant.id, lena.participant.id].sort());
    expect(alice.leg.membership).toEqual({ speak: true, hear: true });
    // A listener stays unheard whatever its mute flag says.
    expect(lena.leg.membership).toEqual({ speak: false, hear: true });
  });

  it('lets a muted participant unmute themselves afterwards', () => {
    const { meeting, join } = setup();
    join('host');
    const alice = join('participant');
    meeting.muteAllButHosts(true);
    meeting.updateParticipant(alice.participant, { muted: false }, 'self');
    expect(alice.leg.membership).toEqual({ speak: true, hear: true });
  });
});

describe('Meeting: hold', () => {
  it('holds every non-host with music, keeps hosts in the room, and releases them', () => {
    const { meeting, join } = setup();
    const host = join('host');
    const alice = join('participant');
    const lena = join('listener');
    const holdEvents: boolean[] = [];
    meeting.on('holdChanged', (held) => holdEvents.push(held));

    const held = meeting.setHeld(true, 'host');
    expect(held.map((p) => p.id)).toEqual([alice.participant.id, lena.participant.id]);
    expect(meeting.held).toBe(true);
    expect(host.leg.held).toBe(false);
    expect(alice.leg.held).toBe(true);
    expect(alice.leg.heldWith).toEqual([sound('music')]);
    expect(lena.participant.held).toBe(true);

    meeting.setHeld(false, 'host');
    expect(alice.leg.held).toBe(false);
    expect(lena.leg.held).toBe(false);
    expect(holdEvents).toEqual([true, false]);
  });

  it('holds a non-host who joins a held meeting, but not a host', () => {
    const { meeting, join } = setup();
    join('host');
    meeting.setHeld(true);
    const late = join('participant');
    const host2 = join('host');
    expect(late.participant.held).toBe(true);
    expect(late.leg.held).toBe(true);
    expect(host2.leg.held).toBe(false);
  });

  it('follows role changes while held, and lets one call off hold individually', () => {
    const { meeting, join } = setup();
    join('host');
    const alice = join('participant');
    const bob = join('participant');
    meeting.setHeld(true);
    meeting.updateParticipant(alice.participant, { role: 'host' });
    expect(alice.leg.held).toBe(false);
    meeting.updateParticipant(alice.participant, { role: 'participant' });
    expect(alice.leg.held).toBe(true);
    meeting.updateParticipant(bob.participant, { held: false });
    expect(bob.leg.held).toBe(false);
    expect(meeting.held).toBe(true);
  });
});

describe('Meeting: join notifications', () => {
  it('are off by default and play entry and exit tones to the others when on', () => {
    const { meeting, join } = setup();
    const host = join('host');
    join('participant');
    expect(host.leg.played).toEqual([]);

    meeting.setJoinNotifications(true);
    const bob = join('participant');
    expect(host.leg.played).toEqual([[sound('entry')]]);
    expect(bob.leg.played).toEqual([]); // not to the one who joins
    meeting.leave(bob.participant);
    expect(host.leg.played).toEqual([[sound('entry')], [sound('exit')]]);

    meeting.setJoinNotifications(false);
    const carol = join('participant');
    meeting.leave(carol.participant);
    expect(host.leg.played).toHaveLength(2);
  });

  it('start on when the room asks for entry tones, and never cut a prompt or reach a held caller', () => {
    const { meeting, join } = setup([{ name: 'conference_entrytones', value: 'on' }]);
    expect(meeting.joinNotifications).toBe(true);
    const host = join('host');
    const alice = join('participant');
    meeting.setHeld(true);
    host.leg.playbackId = 7; // hearing a prompt
    join('host');
    expect(host.leg.played).toHaveLength(1); // only alice's entry, before the prompt
    expect(alice.leg.played).toEqual([]);
  });
});

describe('Meeting: lock and gain', () => {
  it('refuses non-hosts while locked and admits hosts', () => {
    const { meeting, join } = setup();
    join('host');
    meeting.lock();
    expect(() => join('participant')).toThrow(MeetingLockedError);
    expect(() => join('host')).not.toThrow();
    meeting.unlock();
    expect(() => join('listener')).not.toThrow();
  });

  it('maps gain levels -4..4 to input gain in 3 dB steps and refuses others', () => {
    const { meeting, join } = setup();
    const alice = join('participant');
    meeting.updateParticipant(alice.participant, { gainLevel: -4 });
    expect(alice.leg.gain).toEqual({ inDb: -12, outDb: 0 });
    expect(alice.participant.gainLevel).toBe(-4);
    expect(gainDbForLevel(4)).toBe(12);
    expect(isGainLevel(5)).toBe(false);
    expect(isGainLevel(1.5)).toBe(false);
    expect(() => meeting.updateParticipant(alice.participant, { gainLevel: 5 })).toThrow(RangeError);
    expect(alice.participant.gainLevel).toBe(-4); // a refused change changes nothing
  });
});
