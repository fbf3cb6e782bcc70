/**
 * Seed 003's participant actions heard in the audio of real sipp callers:
 * a host and two participants in meeting 1000, each streaming its own
 * tone. Bulk `deaf` leaves the participants hearing nothing while the host
 * still hears them; `undeaf` gives them their ears back; `kick` on one
 * participant sends that caller a BYE, `kick` on all of them ends the
 * meeting. The event feed reports each change in order. A call's `role`
 * changed through PUT /calls/{id} changes who is heard.
 */
import { describe, expect, it } from 'vitest';
import { toneAmplitude } from '../support/audio.js';
import { apiHarness } from '../support/apiHarness.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller, type SippRun } from '../support/sipp.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 21080, http: 21250, rtpMin: 21900, rtpMax: 21939 };
const h = apiHarness({ ports: PORTS, adminPassword: 'actions-test-password' });
const HEARD = 1500;
const NOT_HEARD = 300;

const callers = [
  { name: 'hana', code: '1111#', frequency: 500 },
  { name: 'pia', code: '2222#', frequency: 900 },
  { name: 'paul', code: '2222#', frequency: 1300 },
];

/** What each sink heard of each caller's tone over 1.5 s, after the mixer settled. */
async function listen(sinks: RtpSink[]): Promise<number[][]> {
  await sleep(700);
  const since = Date.now();
  await sleep(1500);
  return sinks.map((sink) => callers.map((c) => Math.round(toneAmplitude(sink.samplesSince(since), c.frequency))));
}

describe('participant actions in the audio', () => {
  it('deafens and undeafens all but hosts, kicks one participant, then everyone', async () => {
    const feed = await h.feed('/conference/v1/meetings/1000/events?events=deaf-member,undeaf-member,del-member,meeting-end');
    const sinks = await Promise.all(callers.map((_, i) => RtpSink.open(21960 + 2 * i)));
    const runs: SippRun[] = callers.map((caller, i) =>
      runCaller(
        {
          dialed: '15550100',
          rtpPort: sinks[i]!.port,
          steps: [
            { kind: 'pause', ms: 500 },
            { kind: 'pcap', path: h.media.digits(caller.name, caller.code) },
            { kind: 'pause', ms: 1500 },
            { kind: 'stream', path: h.media.tone(caller.name, caller.frequency) },
            { kind: 'expectBye', timeoutMs: 90_000 },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 21081 + i, mediaPort: 21940 + 6 * i, timeoutSeconds: 120 },
      ),
    );
    try {
      const conference = h.server.app.conferenceManager;
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 3, 20_000, 'three callers in meeting 1000', runs);
      const participants = (await h.api('GET', '/conference/v1/meetings/1000/participants')).json.participants as Array<{ participant_id: number; call_id: string }>;
      const idOf = (run: SippRun): number => participants.find((p) => p.call_id.includes(`-${run.process.pid}@`))!.participant_id;
      const [hanaId, piaId, paulId] = runs.map(idOf);

      // Everyone hears the two others.
      let heard = await listen(sinks);
      expect(heard[1]![0], JSON.stringify(heard)).toBeGreaterThan(HEARD);
      expect(heard[0]![2], JSON.stringify(heard)).toBeGreaterThan(HEARD);

      // Bulk deaf: the participants hear nobody, the host still hears both of them.
      const deaf = await h.api('PUT', '/conference/v1/meetings/1000/participants', { body: { action: 'deaf' } });
      expect(deaf.status).toBe(200);
      expect(deaf.json.participants.map((p: { participant_id: number; hear: boolean }) => [p.participant_id, p.hear]).sort()).toEqual(
        [[hanaId, true], [piaId, false], [paulId, false]].sort(),
      );
      heard = await listen(sinks);
      expect(heard[0]![1], JSON.stringify(heard)).toBeGreaterThan(HEARD); // hana hears pia
      expect(heard[0]![2], JSON.stringify(heard)).toBeGreaterThan(HEARD); // and paul
      for (const deafened of [1, 2]) {
        for (const other of [0, 1, 2].filter((o) => o !== deafened)) {
          expect(heard[deafened]![other], JSON.stringify(heard)).toBeLessThan(NOT_HEARD);
        }
      }

      // Undeaf one participant, then all: hearing comes back.
      expect((await h.api('PUT', `/conference/v1/meetings/1000/participants/${piaId}`, { body: { action: 'undeaf' } })).json).toMatchObject({ hear: true, deaf: false });
      expect((await h.api('PUT', '/conference/v1/meetings/1000/participants', { body: { action: 'undeaf' } })).status).toBe(200);
      heard = await listen(sinks);
      expect(heard[1]![0], JSON.stringify(heard)).toBeGreaterThan(HEARD);
      expect(heard[2]![0], JSON.stringify(heard)).toBeGreaterThan(HEARD);

      // Kick one: paul gets a BYE, the others stay.
      expect((await h.api('PUT', `/conference/v1/meetings/1000/participants/${paulId}`, { body: { action: 'kick' } })).status).toBe(200);
      const paul = await runs[2]!.done;
      expect(paul.code, paul.errors + paul.output.slice(-2000)).toBe(0);
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 2, 5000, 'paul to leave');
      expect((await h.api('GET', `/conference/v1/meetings/1000/participants/${paulId}`)).status).toBe(404);

      // Kick all: everyone, the host included, gets a BYE and the meeting ends.
      expect((await h.api('PUT', '/conference/v1/meetings/1000/participants', { body: { action: 'kick' } })).status).toBe(200);
      for (const run of runs.slice(0, 2)) {
        const result = await run.done;
        expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      }
      await waitFor(() => feed.events.some((e) => e.event === 'meeting-end'), 10_000, 'meeting-end');
      expect((await h.api('GET', '/conference/v1/meetings/1000')).status).toBe(404);

      const seen = feed.events.map((e) => `${e.event}${e.participant_id ? `:${e.participant_id}` : ''}`);
      expect(seen.slice(0, 2).sort()).toEqual([`deaf-member:${piaId}`, `deaf-member:${paulId}`].sort());
      expect(seen.slice(2, 4)).toEqual([`undeaf-member:${piaId}`, `undeaf-member:${paulId}`]);
      expect(seen[4]).toBe(`del-member:${paulId}`);
      expect(seen.slice(5, 7).sort()).toEqual([`del-member:${hanaId}`, `del-member:${piaId}`].sort());
      expect(seen.slice(7)).toEqual(['meeting-end']);
      for (let i = 1; i < feed.events.length; i++) expect(feed.events[i].seq).toBeGreaterThan(feed.events[i - 1].seq);
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
      feed.socket.close();
    }
  });

  it('changes a call\'s role through PUT /calls/{id}: a listener is not heard, a new host is spared a mute of all', async () => {
    const pair = [callers[0]!, callers[1]!];
    const sinks = await Promise.all(pair.map((_, i) => RtpSink.open(21966 + 2 * i)));
    const runs: SippRun[] = pair.map((caller, i) =>
      runCaller(
        {
          dialed: '15550100',
          rtpPort: sinks[i]!.port,
          steps: [
            { kind: 'pause', ms: 500 },
            { kind: 'pcap', path: h.media.digits(`${caller.name}-2`, caller.code) },
            { kind: 'pause', ms: 1500 },
            { kind: 'stream', path: h.media.tone(`${caller.name}-2`, caller.frequency) },
            { kind: 'expectBye', timeoutMs: 90_000 },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 21084 + i, mediaPort: 21970 + 6 * i, timeoutSeconds: 120 },
      ),
    );
    const hostHearsPia = async (): Promise<number> => Math.round((await listen([sinks[0]!]))[0]![1]!);
    try {
      const conference = h.server.app.conferenceManager;
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 2, 20_000, 'two callers in meeting 1000', runs);
      const piaId = conference.getMeeting(1000)!.participants.find((p) => p.callId.includes(`-${runs[1]!.process.pid}@`))!.id;
      expect(await hostHearsPia()).toBeGreaterThan(HEARD);

      const listener = await h.api('PUT', `/conference/v1/calls/${piaId}`, { body: { role: 3 } });
      expect(listener.json).toMatchObject({ id: piaId, role: 3 });
      expect((await h.api('GET', `/conference/v1/meetings/1000/participants/${piaId}`)).json).toMatchObject({ role: 3, speak: false, hear: true });
      expect(await hostHearsPia()).toBeLessThan(NOT_HEARD);

      expect((await h.api('PUT', `/conference/v1/calls/${piaId}`, { body: { role: 1 } })).json).toMatchObject({ role: 1 });
      expect((await h.api('GET', `/conference/v1/meetings/1000/participants/${piaId}`)).json).toMatchObject({ is_moderator: true, speak: true });
      // Now a host: a mute of all but hosts leaves her audible.
      expect((await h.api('PUT', '/conference/v1/meetings/1000/participants', { body: { action: 'mute' } })).status).toBe(200);
      expect(await hostHearsPia()).toBeGreaterThan(HEARD);
      const bad = await h.api('PUT', `/conference/v1/calls/${piaId}`, { body: { role: 4 } });
      expect(bad.status).toBe(422);
      expect(bad.json.errors[0].field).toBe('role');
      expect((await h.api('GET', `/conference/v1/calls/${piaId}`)).json.role).toBe(1);

      expect((await h.api('DELETE', '/conference/v1/meetings/1000')).status).toBe(204);
      for (const run of runs) {
        const result = await run.done;
        expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      }
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  });
});
