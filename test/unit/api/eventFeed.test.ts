/**
 * The event feed's core against a real ConferenceManager and real media
 * legs (no sockets): numbering and order of the conference events, the
 * deaf changes the API reports, the reported keypad/Q&A/recording events,
 * and a throwing listener that must not keep events from the others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConferenceManager } from '../../../src/conference/ConferenceManager.js';
import { EventFeed, type BridgeEvent } from '../../../src/events/EventFeed.js';
import { createRootLogger } from '../../../src/log.js';
import { MediaEngine } from '../../../src/media/MediaEngine.js';
import type { MeetingRoom } from '../../../src/store/StoreTypes.js';

let media: MediaEngine;
const logger = createRootLogger('silent');
const room = (meetingNumber: number, subscriberSid: string | null = null): MeetingRoom => ({
  meetingNumber, description: '', primaryDidGroupId: 1, didGroupIds: [1], didGroupReferences: [], keychain: [], attributes: [], subscriberSid, created: 0,
});

beforeAll(async () => {
  media = await MediaEngine.create({ bindAddress: '127.0.0.1', rtpPortMin: 24820, rtpPortMax: 24849 });
});
afterAll(async () => {
  await media?.close();
});

describe('EventFeed', () => {
  it('numbers conference events in order, reports deaf and keypad events, and survives a throwing listener', () => {
    const conference = new ConferenceManager(media, logger);
    const feed = new EventFeed(conference, logger);
    const got: Array<{ e: BridgeEvent; owner: string | null }> = [];
    feed.subscribe(() => {
      throw new Error('a broken listener');
    });
    feed.subscribe((e, scope) => got.push({ e, owner: scope.subscriberSid }));
    const join = (callId: string, role: 'host' | 'participant') =>
      conference.join(room(7100, 'owner-sid'), {
        callId, role, accessCode: '1', caller: '15550001', callee: '15550100',
        leg: media.createLeg({ callId, codec: 'PCMU', payloadType: 0 }),
      });
    const { meeting, participant: host } = join('c1', 'host');
    const { participant: guest } = join('c2', 'participant');
    meeting.updateParticipant(guest, { muted: true }, 'host');
    meeting.updateParticipant(guest, { deaf: true });
    feed.participantUpdated(meeting, guest);
    feed.participantUpdated(meeting, guest); // unchanged: not reported twice
    feed.report(meeting, 'keypad-command', host, { command: 'lock' });
    meeting.lock();
    meeting.setHeld(true);
    meeting.leave(guest);
    meeting.leave(host);

    expect(got.map((g) => g.e.event)).toEqual([
      'meeting-start', 'add-member', 'add-member', 'mute-member', 'deaf-member', 'keypad-command', 'lock', 'hold-meeting', 'hold-member',
      'del-member', 'del-member', 'meeting-end',
    ]);
    expect(got.map((g) => g.e.seq)).toEqual(got.map((_, i) => i + 1));
    expect(got.every((g) => g.owner === 'owner-sid' && g.e.meetingNumber === 7100 && g.e.meetingId === meeting.id)).toBe(true);
    expect(got[3]!.e).toMatchObject({ participant_id: guest.id, call_id: 'c2', caller_id_number: '15550001', data: { by: 'host' } });
    expect(got[5]!.e).toMatchObject({ participant_id: host.id, data: { command: 'lock' } });
    // Once gone, a participant's voice state is no longer tracked.
    expect(feed.voice(guest)).toBeUndefined();
  });

  it('publishes the meeting\'s Q&A as it happens: start, hands raised and lowered, next, clear, stop', () => {
    const conference = new ConferenceManager(media, logger);
    const feed = new EventFeed(conference, logger);
    const got: BridgeEvent[] = [];
    feed.subscribe((e) => got.push(e));
    const join = (callId: string, role: 'host' | 'participant') =>
      conference.join(room(7200), {
        callId, role, accessCode: '1', caller: '15550001', callee: '15550100',
        leg: media.createLeg({ callId, codec: 'PCMU', payloadType: 0 }),
      });
    const { meeting, participant: host } = join('q1', 'host');
    const { participant: ann } = join('q2', 'participant');
    const { participant: bob } = join('q3', 'participant');
    meeting.qa.start('operator');
    meeting.qa.raiseHand(ann);
    meeting.qa.raiseHand(bob);
    meeting.qa.lowerHand(ann);
    meeting.qa.next('operator');
    meeting.qa.raiseHand(ann);
    meeting.qa.clear('operator');
    meeting.qa.stop('operator');
    const qa = got.filter((e) => e.event.startsWith('qa-'));
    expect(qa.map((e) => e.event)).toEqual(['qa-start', 'qa-hand-raised', 'qa-hand-raised', 'qa-hand-lowered', 'qa-next', 'qa-hand-raised', 'qa-clear', 'qa-stop']);
    expect(qa[2]).toMatchObject({ participant_id: bob.id, data: { position: 2 } });
    expect(qa[4]).toMatchObject({ participant_id: bob.id });
    expect(qa[6]).toMatchObject({ data: { dropped: [ann.id] } });
    // Q&A muted the participants and gave bob the floor; stop gave everyone back their state.
    expect([host.muted, ann.muted, bob.muted]).toEqual([false, false, false]);
    meeting.end();
  });

  it('stops listening to a meeting, its Q&A, its participants and their legs once they are gone', () => {
    const FEED_EVENTS = {
      meeting: ['participantJoined', 'participantLeft', 'lockChanged', 'holdChanged'],
      qa: ['qaStarted', 'qaStopped', 'questionQueued', 'questionWithdrawn', 'questionTaken', 'qaCleared'],
      participant: ['muteChanged', 'holdChanged'],
      leg: ['talkingStarted', 'talkingStopped', 'dtmf'],
    };
    // The conference keeps listeners of its own: the feed's are what a run with it has beyond a run without.
    const run = (meetingNumber: number, withFeed: boolean) => {
      const conference = new ConferenceManager(media, logger);
      if (withFeed) new EventFeed(conference, logger);
      const join = (callId: string, role: 'host' | 'participant') =>
        conference.join(room(meetingNumber), {
          callId, role, accessCode: '1', caller: '15550001', callee: '15550100',
          leg: media.createLeg({ callId: `${callId}-${meetingNumber}`, codec: 'PCMU', payloadType: 0 }),
        });
      const { meeting, participant: host } = join('l1', 'host');
      const { participant: guest } = join('l2', 'participant');
      const counts = () => [
        ...FEED_EVENTS.meeting.map((e) => meeting.listenerCount(e)),
        ...FEED_EVENTS.qa.map((e) => meeting.qa.listenerCount(e)),
        ...[host, guest].flatMap((p) => [...FEED_EVENTS.participant.map((e) => p.listenerCount(e)), ...FEED_EVENTS.leg.map((e) => p.leg.listenerCount(e))]),
      ];
      const live = counts();
      meeting.leave(guest);
      meeting.leave(host);
      return { live, gone: counts() };
    };
    const withFeed = run(7300, true);
    const without = run(7301, false);
    expect(withFeed.live).not.toEqual(without.live);
    expect(withFeed.gone).toEqual(without.gone);
  });
});
