/**
 * PUT on a live meeting's attributes (seed 004) with a real sipp caller in
 * the meeting: the change shows on the meeting (where the call flow reads
 * it) and acts at once (entry/exit tones), the stored room keeps its own
 * values, null goes back to them, and bad input is refused naming the
 * field without changing anything.
 */
import { describe, expect, it } from 'vitest';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller } from '../support/sipp.js';
import { apiHarness } from '../support/apiHarness.js';
import { waitFor } from '../support/wait.js';

const PORTS = { sip: 25890, http: 25990, rtpMin: 24450, rtpMax: 24499 };
const ADMIN: [string, string] = ['admin', 'attributes-test-password'];
const h = apiHarness({ ports: PORTS, adminPassword: ADMIN[1] });

describe('live meeting attributes', () => {
  it('changes a live meeting\'s attributes, not the stored room\'s', async () => {
    expect((await h.api('PUT', '/conference/v1/meetings/1000/attributes/conference_entrytones', { body: { value: 'on' } })).status).toBe(404);
    const sink = await RtpSink.open(24816);
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: sink.port,
        steps: [{ kind: 'pause', ms: 500 }, { kind: 'pcap', path: h.media.digits('ada', '2222#') }, { kind: 'expectBye', timeoutMs: 60_000 }],
      },
      { serverPort: PORTS.sip, sipPort: 25891, mediaPort: 24580, timeoutSeconds: 90 },
    );
    try {
      await waitFor(() => h.server.app.conferenceManager.getMeeting(1000)?.participants.length === 1, 20_000, 'the caller in meeting 1000', [run]);
      const meeting = h.server.app.conferenceManager.getMeeting(1000)!;
      const storedBefore = (await h.api('GET', '/conference/v1/meetingRooms/1000')).json.attributes;
      const tonesBefore = meeting.joinNotifications;

      const one = await h.api('PUT', '/conference/v1/meetings/1000/attributes/conference_entrytones', { body: { value: tonesBefore ? 'off' : 'on' } });
      expect(one.status, one.text).toBe(200);
      expect(one.json).toEqual([{ name: 'conference_entrytones', value: tonesBefore ? 'off' : 'on' }]);
      // The exit tones attribute may be on in the room too: turn both the same way to see the switch act.
      const both = await h.api('PUT', '/conference/v1/meetings/1000/attributes', {
        body: [
          { name: 'conference_exittones', value: tonesBefore ? 'off' : 'on' },
          { name: 'conference_maxcalls', value: 25 },
        ],
      });
      expect(both.status, both.text).toBe(200);
      expect(both.json).toEqual(expect.arrayContaining([{ name: 'conference_maxcalls', value: '25' }]));
      expect(meeting.joinNotifications).toBe(!tonesBefore);
      // The call flow reads the live meeting's copy.
      expect(meeting.room.attributes).toEqual(expect.arrayContaining([{ name: 'conference_maxcalls', value: '25' }]));
      const live = await h.api('GET', '/conference/v1/meetings/1000');
      expect(live.json.attributes).toEqual(expect.arrayContaining([{ name: 'conference_maxcalls', value: '25' }]));
      expect((await h.api('GET', '/conference/v1/meetingRooms/1000')).json.attributes).toEqual(storedBefore);

      // Bad input: each refused naming the problem, nothing changes.
      const snapshot = JSON.stringify(meeting.room.attributes);
      const unknown = await h.api('PUT', '/conference/v1/meetings/1000/attributes/no_such_thing', { body: { value: 'on' } });
      expect(unknown.status).toBe(422);
      expect(unknown.json.errors[0].field).toBe('name');
      const wrongType = await h.api('PUT', '/conference/v1/meetings/1000/attributes/conference_entrytones', { body: { value: { on: true } } });
      expect(wrongType.status).toBe(422);
      expect(wrongType.json.errors[0].field).toBe('value');
      const extra = await h.api('PUT', '/conference/v1/meetings/1000/attributes/conference_entrytones', { body: { value: 'on', name: 'x' } });
      expect(extra.status).toBe(422);
      expect(extra.json.errors[0].field).toBe('name');
      const mixed = await h.api('PUT', '/conference/v1/meetings/1000/attributes', { body: [{ name: 'conference_entrytones', value: 'on' }, { name: "x'; DROP TABLE attributes;--", value: '1' }] });
      expect(mixed.status).toBe(422);
      expect(mixed.json.errors[0].field).toBe('1.name');
      const malformed = await h.api('PUT', '/conference/v1/meetings/1000/attributes', { rawBody: '[{"name": "conference_entrytones",', contentType: 'application/json' });
      expect(malformed.status).toBe(400);
      const tooBig = await h.api('PUT', '/conference/v1/meetings/1000/attributes/conference_entrytones', { body: { value: 'x'.repeat(70 * 1024) } });
      expect(tooBig.status).toBe(413);
      expect(JSON.stringify(meeting.room.attributes)).toBe(snapshot);

      // null goes back to the room's stored value (or removes an attribute the room does not have).
      const restored = await h.api('PUT', '/conference/v1/meetings/1000/attributes/conference_maxcalls', { body: { value: null } });
      expect(restored.status).toBe(200);
      const storedMax = storedBefore.filter((a: { name: string }) => a.name === 'conference_maxcalls');
      expect(restored.json).toEqual(storedMax.map((a: { name: string; value: string }) => ({ name: a.name, value: a.value })));
    } finally {
      await h.api('DELETE', '/conference/v1/meetings/1000');
      await run.done;
      run.process.kill();
      sink.close();
    }
  });
});
