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
});
