/**
 * Seed 002's mute/unmute/kick by caller number, and seed 000's attendee
 * call-out, over real HTTP with real sipp callers: muting a number takes
 * its tone out of what the other caller hears, unmuting brings it back,
 * kicking a number hangs it up with BYE. Bad numbers, unknown numbers and
 * get 4xx answers naming the problem; an attendee called out (sipp behind
 * the outbound trunk) joins with the role and name asked for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toneAmplitude } from '../support/audio.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller, type SippRun } from '../support/sipp.js';
import { answeringCallee, runCallee } from '../support/sippCallee.js';
import { apiHarness } from '../support/apiHarness.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 25870, http: 25970, rtpMin: 24950, rtpMax: 24999 };
/** sipp as the attendee the API calls out, behind the outbound trunk. */
const CALLEE = { sipPort: 25875, mediaPort: 24900, sinkPort: 24904 };
const CALLEE_HZ = 1500;
const ADMIN: [string, string] = ['admin', 'callers-test-password'];
const HEARD = 1500;
const NOT_HEARD = 300;

const h = apiHarness({
  ports: PORTS,
  adminPassword: ADMIN[1],
  tweak: (config) => {
    const trunk = config.trunks.find((t) => t.outbound)!;
    trunk.outbound!.proxy = { host: '127.0.0.1', port: CALLEE.sipPort, transport: 'udp' };
  },
});
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'callout-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const callers = [
  { name: 'anna', from: '+15551230001', frequency: 450 },
  { name: 'bert', from: '15551230002', frequency: 1050 },
];

/** What each sink heard of each caller's tone over 1.5 s. */
async function listen(sinks: RtpSink[]): Promise<number[][]> {
  await sleep(700);
  const since = Date.now();
  await sleep(1500);
  return sinks.map((sink) => callers.map((c) => Math.round(toneAmplitude(sink.samplesSince(since), c.frequency))));
}

describe('actions by caller number and attendee call-out', () => {
  it('mutes, unmutes and kicks by caller number', async () => {
    const sinks = await Promise.all(callers.map((_, i) => RtpSink.open(24812 + 2 * i)));
    const runs: SippRun[] = callers.map((c, i) =>
      runCaller(
        {
          dialed: '15550100',
          rtpPort: sinks[i]!.port,
          from: c.from,
          steps: [
            { kind: 'pause', ms: 500 },
            { kind: 'pcap', path: h.media.digits(c.name, '2222#') },
            { kind: 'pause', ms: 1500 },
            { kind: 'stream', path: h.media.tone(c.name, c.frequency) },
            { kind: 'expectBye', timeoutMs: 60_000 },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 25871 + i, mediaPort: 24560 + 10 * i, timeoutSeconds: 90 },
      ),
    );
    try {
      await waitFor(() => h.server.app.conferenceManager.getMeeting(1000)?.participants.length === 2, 20_000, 'both callers in meeting 1000', runs);
      let heard = await listen(sinks);
      expect(heard[1]![0], JSON.stringify(heard)).toBeGreaterThan(HEARD); // bert hears anna

      // Anna called from +15551230001; the number matches written any E.164 way.
      const muted = await h.api('PUT', '/conference/v1/meetings/1000/callers/15551230001', { body: { action: 'mute' } });
      expect(muted.status, muted.text).toBe(200);
      expect(muted.json.participants).toHaveLength(1);
      expect(muted.json.participants[0]).toMatchObject({ caller_id_number: '+15551230001', mute: true, speak: false });
      heard = await listen(sinks);
      expect(heard[1]![0], JSON.stringify(heard)).toBeLessThan(NOT_HEARD); // anna is gone from bert's audio
      expect(heard[0]![1], JSON.stringify(heard)).toBeGreaterThan(HEARD); // anna still hears bert

      const unmuted = await h.api('PUT', `/conference/v1/meetings/1000/callers/${encodeURIComponent('+1 555 123 0001')}`, { body: { action: 'unmute' } });
      expect(unmuted.status, unmuted.text).toBe(200);
      heard = await listen(sinks);
      expect(heard[1]![0], JSON.stringify(heard)).toBeGreaterThan(HEARD);

      // Bad input changes nothing.
      const notNumber = await h.api('PUT', '/conference/v1/meetings/1000/callers/abc', { body: { action: 'mute' } });
      expect(notNumber.status).toBe(400);
      expect(notNumber.json.errors[0].field).toBe('number');
      const unknown = await h.api('PUT', '/conference/v1/meetings/1000/callers/15559999999', { body: { action: 'kick' } });
      expect(unknown.status).toBe(404);
      const badAction = await h.api('PUT', '/conference/v1/meetings/1000/callers/15551230002', { body: { action: 'explode' } });
      expect(badAction.status).toBe(422);
      expect(badAction.json.errors[0].field).toBe('action');
      const sqlish = await h.api('PUT', `/conference/v1/meetings/1000/callers/${encodeURIComponent("1' OR '1'='1")}`, { body: { action: 'kick' } });
      expect(sqlish.status).toBe(400);
      expect(h.server.app.conferenceManager.getMeeting(1000)!.participants.every((p) => !p.muted)).toBe(true);
      expect(h.server.app.conferenceManager.getMeeting(1000)!.participants).toHaveLength(2);

      // Kick bert by number: his sipp gets its BYE and exits cleanly.
      const kicked = await h.api('PUT', '/conference/v1/meetings/1000/callers/+15551230002', { body: { action: 'kick' } });
      expect(kicked.status).toBe(200);
      const bert = await runs[1]!.done;
      expect(bert.code, bert.errors + bert.output.slice(-2000)).toBe(0);
      await waitFor(() => h.server.app.conferenceManager.getMeeting(1000)?.participants.length === 1, 5000, 'bert gone');
      expect(h.server.app.conferenceManager.getMeeting(1000)!.participants[0]!.caller).toBe('+15551230001');

      // Calling an attendee out: validated, the meeting must be live, and this bridge has no outbound calls wired.
      const badNumber = await h.api('POST', '/conference/v1/meetings/1000/calls', { body: { number: 'not-a-number' } });
      expect(badNumber.status).toBe(422);
      expect(badNumber.json.errors[0].field).toBe('number');
      const extra = await h.api('POST', '/conference/v1/meetings/1000/calls', { body: { number: '15551230003', ring: true } });
      expect(extra.status).toBe(422);
      expect(extra.json.errors[0].field).toBe('ring');
      expect((await h.api('POST', '/conference/v1/meetings/4242/calls', { body: { number: '15551230003' } })).status).toBe(404);
      // An answering attendee (sipp as the outbound trunk's far end) joins as a listener with its name:
      // it hears anna, and nobody hears it.
      const calleeSink = await RtpSink.open(CALLEE.sinkPort);
      const callee = runCallee(answeringCallee(CALLEE.sinkPort, h.media.tone('callee', CALLEE_HZ), 500), CALLEE, dir);
      try {
        const placed = await h.api('POST', '/conference/v1/meetings/1000/calls', { body: { number: '+15551230003', role: 3, customName: 'Carla' } });
        expect(placed.status, placed.text).toBe(202);
        const joined = () => h.server.app.conferenceManager.getMeeting(1000)?.participants.find((p) => p.callId === placed.json.callId);
        await waitFor(() => joined() !== undefined, 20_000, 'the attendee to answer and join', [runs[0]!]);
        expect(joined()).toMatchObject({ role: 'listener', customName: 'Carla', caller: '+15551230003' });
        await sleep(1500);
        const since = Date.now();
        await sleep(1500);
        expect(toneAmplitude(calleeSink.samplesSince(since), callers[0]!.frequency)).toBeGreaterThan(HEARD);
        expect(toneAmplitude(sinks[0]!.samplesSince(since), CALLEE_HZ)).toBeLessThan(NOT_HEARD);
        expect((await h.api('DELETE', '/conference/v1/meetings/1000')).status).toBe(204);
        const calleeResult = await callee.done; // our BYE ended its scenario
        expect(calleeResult.code, calleeResult.output).toBe(0);
      } finally {
        callee.process.kill();
        calleeSink.close();
      }
      const anna = await runs[0]!.done;
      expect(anna.code, anna.errors + anna.output.slice(-2000)).toBe(0);
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  });
});
