/**
 * `keypad-command` on the WebSocket feed: a real sipp host presses keys in
 * meeting 1000 as RFC 4733 events; every completed sequence reaches the
 * feed in order, with the caller's member id, the command, the keys and how
 * it ended (carried out, refused, unknown), and the meeting shows the
 * effect.
 */
import { describe, expect, it } from 'vitest';
import { apiHarness } from '../support/apiHarness.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller } from '../support/sipp.js';
import { waitFor } from '../support/wait.js';

const PORTS = { sip: 21000, http: 21200, rtpMin: 21300, rtpMax: 21349 };
const h = apiHarness({ ports: PORTS, adminPassword: 'keypad-events-password' });

describe('keypad-command events', () => {
  it('reports *1, *92, *98 and an unknown *# in order with the caller\'s member id and outcome', async () => {
    const feed = await h.feed('/conference/v1/meetings/1000/events?events=add-member,keypad-command,mute-member,lock,dtmf');
    const sink = await RtpSink.open(21500);
    const press = (name: string, digits: string) => ({ kind: 'pcap' as const, path: h.media.digits(name, digits) });
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: sink.port,
        steps: [
          { kind: 'pause', ms: 500 },
          press('host-code', '1111#'),
          { kind: 'pause', ms: 2000 },
          press('self-mute', '*1'),
          { kind: 'pause', ms: 1000 },
          press('lock', '*92'),
          { kind: 'pause', ms: 1200 },
          // Q&A is not running: "next" is refused.
          press('qa-next', '*98'),
          { kind: 'pause', ms: 1200 },
          press('unbound', '*#'),
          { kind: 'expectBye', timeoutMs: 60_000 },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 21010, mediaPort: 21400, timeoutSeconds: 90 },
    );
    try {
      const commands = () => feed.events.filter((e) => e.event === 'keypad-command');
      await waitFor(() => commands().length >= 4, 30_000, 'four keypad-command events', [run]);
      const joined = feed.events.find((e) => e.event === 'add-member');
      expect(joined).toBeDefined();
      const id: number = joined.participant_id;
      expect(commands().map((e) => [e.participant_id, e.data.command, e.data.sequence, e.data.outcome])).toEqual([
        [id, 'selfMuteToggle', '*1', 'done'],
        [id, 'lock', '*92', 'done'],
        [id, 'qaNext', '*98', 'refused'],
        [id, null, '*#', 'unknown'],
      ]);
      expect(commands().every((e) => e.meetingNumber === 1000 && e.call_id === joined.call_id && e.caller_id_number === 'caller')).toBe(true);
      // Each command follows the change it made, in feed order.
      // Each key of the sequences came as a dtmf event before its command (the access code was the IVR's, not the meeting's).
      const keys = feed.events.filter((e) => e.event === 'dtmf');
      expect(keys.map((e) => e.data.digit).join('')).toBe('*1*92*98*#');
      expect(keys.every((e) => e.participant_id === id && e.data.source === 'rfc4733')).toBe(true);
      const order = feed.events.filter((e) => e.event !== 'dtmf').map((e) => (e.event === 'keypad-command' ? `${e.event}:${e.data.sequence}` : e.event));
      expect(order).toEqual(['add-member', 'mute-member', 'keypad-command:*1', 'lock', 'keypad-command:*92', 'keypad-command:*98', 'keypad-command:*#']);
      for (let i = 1; i < feed.events.length; i++) expect(feed.events[i].seq).toBeGreaterThan(feed.events[i - 1].seq);
      const seqOf = (event: string, match: (e: { data: { sequence?: string } }) => boolean) => feed.events.find((e) => e.event === event && match(e)).seq;
      expect(keys[1].seq).toBeLessThan(seqOf('keypad-command', (e) => e.data.sequence === '*1'));
      expect(keys[4].seq).toBeLessThan(seqOf('keypad-command', (e) => e.data.sequence === '*92'));
      const meeting = await h.api('GET', '/conference/v1/meetings/1000');
      expect(meeting.json).toMatchObject({ isLocked: true });
      expect((await h.api('DELETE', '/conference/v1/meetings/1000')).status).toBe(204);
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
    } finally {
      run.process.kill();
      sink.close();
      feed.socket.close();
    }
  });
});
