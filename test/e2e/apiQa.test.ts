/**
 * Q&A driven through the API with real sipp callers (seed 003/004 actions
 * `qa-start`, `qa-next`, `qa-clear`, `qa-stop`): starting mutes the
 * participants (the host's audio stays), two participants raise their
 * hands with *5, `qa-next` gives the floor to the first (its tone is heard
 * again, the other's is not), `qa-clear` drops the rest of the queue,
 * `qa-stop` gives everyone their voice back. The feed reports it in order.
 */
import { describe, expect, it } from 'vitest';
import { toneAmplitude } from '../support/audio.js';
import { apiHarness } from '../support/apiHarness.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller, type CallerStep, type SippRun } from '../support/sipp.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 21100, http: 21260, rtpMin: 21610, rtpMax: 21659 };
const h = apiHarness({ ports: PORTS, adminPassword: 'qa-test-password' });
const HEARD = 1500;
const NOT_HEARD = 300;

const callers = [
  { name: 'quincy', code: '1111#', frequency: 600, raiseAfterMs: 0 },
  { name: 'rosa', code: '2222#', frequency: 1000, raiseAfterMs: 5000 },
  { name: 'sam', code: '2222#', frequency: 1400, raiseAfterMs: 6000 },
];

/** What the host's sink heard of each caller's tone over 1.5 s. */
async function hostHears(sink: RtpSink): Promise<number[]> {
  await sleep(700);
  const since = Date.now();
  await sleep(1500);
  return callers.map((c) => Math.round(toneAmplitude(sink.samplesSince(since), c.frequency)));
}

describe('Q&A through the API', () => {
  it('starts Q&A, gives the floor to the first raised hand, clears the queue and stops', async () => {
    const feed = await h.feed('/conference/v1/meetings/1000/events?events=qa-start,qa-stop,qa-hand-raised,qa-next,qa-clear');
    const sinks = await Promise.all(callers.map((_, i) => RtpSink.open(21520 + 2 * i)));
    const runs: SippRun[] = callers.map((caller, i) => {
      const steps: CallerStep[] = [
        { kind: 'pause', ms: 500 },
        { kind: 'pcap', path: h.media.digits(`${caller.name}-code`, caller.code) },
        { kind: 'pause', ms: 1500 },
        { kind: 'stream', path: h.media.tone(caller.name, caller.frequency) },
      ];
      if (caller.raiseAfterMs > 0) steps.push({ kind: 'pause', ms: caller.raiseAfterMs }, { kind: 'pcap', path: h.media.digits(`${caller.name}-hand`, '*5') });
      steps.push({ kind: 'expectBye', timeoutMs: 90_000 });
      return runCaller({ dialed: '15550100', rtpPort: sinks[i]!.port, steps }, { serverPort: PORTS.sip, sipPort: 21101 + i, mediaPort: 21440 + 10 * i, timeoutSeconds: 120 });
    });
    const meeting = (body: unknown) => h.api('PUT', '/conference/v1/meetings/1000', { body });
    try {
      const conference = h.server.app.conferenceManager;
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 3, 20_000, 'three callers in meeting 1000', runs);
      const started = await meeting({ action: 'qa-start' });
      expect(started.status).toBe(200);
      expect(started.json.qaMode).toBe(1);
      const participants = (await h.api('GET', '/conference/v1/meetings/1000/participants')).json.participants as Array<{ participant_id: number; call_id: string; mute: boolean }>;
      const idOf = (run: SippRun): number => participants.find((p) => p.call_id.includes(`-${run.process.pid}@`))!.participant_id;
      const [, rosaId, samId] = runs.map(idOf);
      expect(participants.filter((p) => p.mute).map((p) => p.participant_id).sort()).toEqual([rosaId, samId].sort());

      await waitFor(() => feed.events.filter((e) => e.event === 'qa-hand-raised').length === 2, 20_000, 'two raised hands', runs);
      let heard = await hostHears(sinks[0]!);
      expect(heard[1], JSON.stringify(heard)).toBeLessThan(NOT_HEARD);
      expect(heard[2], JSON.stringify(heard)).toBeLessThan(NOT_HEARD);

      expect((await meeting({ action: 'qa-next' })).status).toBe(200);
      heard = await hostHears(sinks[0]!);
      expect(heard[1], JSON.stringify(heard)).toBeGreaterThan(HEARD); // rosa has the floor
      expect(heard[2], JSON.stringify(heard)).toBeLessThan(NOT_HEARD);

      expect((await meeting({ action: 'qa-clear' })).status).toBe(200);
      const stopped = await meeting({ action: 'qa-stop' });
      expect(stopped.json.qaMode).toBe(0);
      heard = await hostHears(sinks[0]!);
      expect(heard[1], JSON.stringify(heard)).toBeGreaterThan(HEARD);
      expect(heard[2], JSON.stringify(heard)).toBeGreaterThan(HEARD);

      const seen = feed.events.map((e) => [e.event, e.participant_id ?? null, e.data?.position ?? e.data?.dropped ?? null]);
      expect(seen).toEqual([
        ['qa-start', null, null],
        ['qa-hand-raised', rosaId, 1],
        ['qa-hand-raised', samId, 2],
        ['qa-next', rosaId, null],
        ['qa-clear', null, [samId]],
        ['qa-stop', null, null],
      ]);
      expect((await h.api('DELETE', '/conference/v1/meetings/1000')).status).toBe(204);
      for (const run of runs) {
        const result = await run.done;
        expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      }
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
      feed.socket.close();
    }
  });
});
