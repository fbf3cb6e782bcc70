/**
 * The live part of the control API against real sipp callers in a meeting:
 * muting a call through PUT /calls/{id} removes its tone from what the
 * others hear; the bulk participants action mutes everyone but hosts; a
 * locked meeting refuses a participant (conf-locked, then BYE) and admits a
 * host whose access code was added through the API a moment before; DELETE
 * /calls/{id} and DELETE /meetings/{n} hang up with BYE.
 */
import { describe, expect, it } from 'vitest';
import { rms, toneAmplitude } from '../support/audio.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller, type CallerStep, type SippRun } from '../support/sipp.js';
import { apiHarness } from '../support/apiHarness.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 25361, http: 25381, rtpMin: 45200, rtpMax: 45999 };
const ADMIN: [string, string] = ['admin', 'live-test-password'];
const h = apiHarness({ ports: PORTS, adminPassword: ADMIN[1] });
const HEARD = 1500;
const NOT_HEARD = 300;

interface Caller {
  name: string;
  code: string;
  frequency: number;
}

function inMeeting(caller: Caller, index: number, sink: RtpSink): SippRun {
  const steps: CallerStep[] = [
    { kind: 'pause', ms: 500 },
    { kind: 'pcap', path: h.media.digits(caller.name, caller.code) },
    { kind: 'pause', ms: 1500 },
    { kind: 'stream', path: h.media.tone(caller.name, caller.frequency) },
    // Stays until the bridge hangs up (DELETE /calls or DELETE /meetings).
    { kind: 'expectBye', timeoutMs: 120_000 },
  ];
  return runCaller(
    { dialed: '15550100', rtpPort: sink.port, steps },
    { serverPort: PORTS.sip, sipPort: 46000 + index, mediaPort: 46500 + 10 * index, timeoutSeconds: 150 },
  );
}

async function listen(sinks: RtpSink[], callers: Caller[]): Promise<number[][]> {
  await sleep(700);
  const since = Date.now();
  await sleep(1500);
  return sinks.map((sink) => callers.map((c) => Math.round(toneAmplitude(sink.samplesSince(since), c.frequency))));
}

describe('live meetings and calls through the API', () => {
  it('mutes a call, mutes all but hosts, locks the meeting, hangs up a call and ends the meeting', async () => {
    const callers: Caller[] = [
      { name: 'hilda', code: '1111#', frequency: 1850 },
      { name: 'alice', code: '2222#', frequency: 450 },
      { name: 'bob', code: '2222#', frequency: 1050 },
    ];
    const sinks = await Promise.all(callers.map((_, i) => RtpSink.open(46400 + 2 * i)));
    const runs = callers.map((caller, i) => inMeeting(caller, i, sinks[i]!));
    const extra: SippRun[] = [];
    const extraSinks: RtpSink[] = [];
    try {
      const conference = h.server.app.conferenceManager;
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 3, 20_000, 'three callers in meeting 1000', runs);

      const meeting = await h.api('GET', '/conference/v1/meetings/1000');
      expect(meeting.status).toBe(200);
      expect(meeting.json).toMatchObject({ meetingNumber: 1000, participantCount: 3, isLocked: false, state: 2 });
      const calls = await h.api('GET', '/conference/v1/calls?order=id');
      expect(calls.json.total).toBe(3);
      const byRole = await h.api('GET', `/conference/v1/calls?filter=${encodeURIComponent('role eq 1 and meetingNumber eq 1000')}`);
      expect(byRole.json.calls).toHaveLength(1);
      const hostId: number = byRole.json.calls[0].id;
      // sipp's Call-ID is <call number>-<pid>@<ip>: find each caller's participant by its process.
      const participants = (await h.api('GET', '/conference/v1/meetings/1000/participants')).json.participants as Array<{ participant_id: number; call_id: string }>;
      const idOf = (run: SippRun): number => participants.find((p) => p.call_id.includes(`-${run.process.pid}@`))!.participant_id;
      const [aliceId, bobId] = [idOf(runs[1]!), idOf(runs[2]!)];
      expect(idOf(runs[0]!)).toBe(hostId);
      expect(calls.json.calls.find((c: { id: number }) => c.id === aliceId)).toMatchObject({ role: 2, muteMode: 0, callee: '15550100', codec: 'PCMU' });

      // 1. Everyone hears the others.
      let heard = await listen(sinks, callers);
      expect(heard[2]![1], JSON.stringify(heard)).toBeGreaterThan(HEARD); // bob hears alice
      expect(heard[2]![0], JSON.stringify(heard)).toBeGreaterThan(HEARD); // bob hears hilda

      // 2. PUT muteMode on alice: her tone leaves bob's and hilda's audio.
      const muted = await h.api('PUT', `/conference/v1/calls/${aliceId}`, { body: { muteMode: 40, customName: 'Alice' } });
      expect(muted.status).toBe(200);
      expect(muted.json).toMatchObject({ id: aliceId, muteMode: 40, customName: 'Alice' });
      heard = await listen(sinks, callers);
      expect(heard[2]![1], JSON.stringify(heard)).toBeLessThan(NOT_HEARD);
      expect(heard[0]![1], JSON.stringify(heard)).toBeLessThan(NOT_HEARD);
      expect(heard[1]![2], JSON.stringify(heard)).toBeGreaterThan(HEARD); // alice still hears bob
      const unsupported = await h.api('PUT', `/conference/v1/calls/${aliceId}`, { body: { muteMode: 0, gainLevel: 5 } });
      expect(unsupported.status).toBe(422);
      expect(unsupported.json.errors[0].field).toBe('gainLevel');
      expect((await h.api('GET', `/conference/v1/calls/${aliceId}`)).json.muteMode).toBe(40); // the refused request changed nothing
      expect((await h.api('PUT', `/conference/v1/calls/${aliceId}`, { body: { muteMode: 0 } })).json.muteMode).toBe(0);

      // 3. Bulk mute: alice and bob go quiet, hilda (host) stays audible.
      const bulk = await h.api('PUT', '/conference/v1/meetings/1000/participants', { body: { action: 'mute' } });
      expect(bulk.status).toBe(200);
      const states = bulk.json.participants as Array<{ participant_id: number; speak: boolean; is_moderator: boolean }>;
      expect(states.find((p) => p.is_moderator)).toMatchObject({ speak: true });
      expect(states.filter((p) => !p.is_moderator).every((p) => !p.speak)).toBe(true);
      heard = await listen(sinks, callers);
      expect(heard[1]![0], JSON.stringify(heard)).toBeGreaterThan(HEARD); // alice hears hilda
      expect(heard[2]![0], JSON.stringify(heard)).toBeGreaterThan(HEARD); // bob hears hilda
      expect(heard[0]![1], JSON.stringify(heard)).toBeLessThan(NOT_HEARD); // hilda hears neither
      expect(heard[0]![2], JSON.stringify(heard)).toBeLessThan(NOT_HEARD);
      const single = await h.api('PUT', `/conference/v1/meetings/1000/participants/${bobId}`, { body: { action: 'unmute' } });
      expect(single.json).toMatchObject({ participant_id: bobId, speak: true, mute: false });

      // 4. Lock: a participant is refused with BYE after the prompt; a host
      //    whose code was added through the API just now gets in.
      const locked = await h.api('PUT', '/conference/v1/meetings/1000', { body: { action: 'lock' } });
      expect(locked.json).toMatchObject({ isLocked: true });
      const newKey = await h.api('POST', '/conference/v1/meetingRooms/1000/keychain', { body: { accessCode: '4444', role: 1 } });
      expect(newKey.status).toBe(200);
      extraSinks.push(await RtpSink.open(46410), await RtpSink.open(46412));
      const refused = runCaller(
        {
          dialed: '15550100',
          rtpPort: extraSinks[0]!.port,
          steps: [
            { kind: 'pause', ms: 500 },
            { kind: 'pcap', path: h.media.digits('paula', '2222#') },
            { kind: 'expectBye', timeoutMs: 30_000 },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 46010, mediaPort: 46600 },
      );
      extra.push(refused);
      const refusedResult = await refused.done;
      expect(refusedResult.code, refusedResult.errors + refusedResult.output.slice(-2000)).toBe(0);
      expect(extraSinks[0]!.packetCount).toBeGreaterThan(50); // it heard the locked prompt
      expect(conference.getMeeting(1000)!.participants).toHaveLength(3);

      // Henry waits for the BYE straight after his code, so an early one cannot surprise his scenario.
      const host2 = runCaller(
        {
          dialed: '15550100',
          rtpPort: extraSinks[1]!.port,
          steps: [
            { kind: 'pause', ms: 500 },
            { kind: 'pcap', path: h.media.digits('henry', '4444#') },
            { kind: 'expectBye', timeoutMs: 120_000 },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 46011, mediaPort: 46610, timeoutSeconds: 150 },
      );
      extra.push(host2);
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 4, 20_000, 'the second host in the locked meeting', [host2]);
      expect((await h.api('PUT', '/conference/v1/meetings/1000', { body: { action: 'unlock' } })).json.isLocked).toBe(false);

      // 5. DELETE a call: alice gets a BYE (her sipp expects one and exits 0).
      expect((await h.api('DELETE', `/conference/v1/calls/${aliceId}`)).status).toBe(204);
      const aliceResult = await runs[1]!.done;
      expect(aliceResult.code, aliceResult.errors + aliceResult.output.slice(-2000)).toBe(0);
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 3, 5_000, 'alice to leave');
      expect((await h.api('GET', `/conference/v1/calls/${aliceId}`)).status).toBe(404);

      // 6. DELETE the meeting: everyone left gets a BYE.
      expect((await h.api('DELETE', '/conference/v1/meetings/1000')).status).toBe(204);
      for (const run of [runs[0]!, runs[2]!, host2]) {
        const result = await run.done;
        expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      }
      expect((await h.api('GET', '/conference/v1/meetings/1000')).status).toBe(404);
      expect((await h.api('GET', '/conference/v1/meetings')).json.total).toBe(0);
    } finally {
      for (const run of [...runs, ...extra]) run.process.kill();
      for (const sink of [...sinks, ...extraSinks]) sink.close();
    }
  });
  it('holds one call (music, out of the room) and sets a call\'s gain through PUT /calls/{id}', async () => {
    const callers: Caller[] = [
      { name: 'holm', code: '1111#', frequency: 1850 },
      { name: 'gail', code: '2222#', frequency: 450 },
      { name: 'gus', code: '2222#', frequency: 1050 },
    ];
    const sinks = await Promise.all(callers.map((_, i) => RtpSink.open(46420 + 2 * i)));
    // Own sipp ports: 46020+ for SIP, 46700+ for media.
    const runs = callers.map((caller, i) =>
      runCaller(
        {
          dialed: '15550100',
          rtpPort: sinks[i]!.port,
          steps: [
            { kind: 'pause', ms: 500 },
            { kind: 'pcap', path: h.media.digits(`${caller.name}-code`, caller.code) },
            { kind: 'pause', ms: 1500 },
            { kind: 'stream', path: h.media.tone(caller.name, caller.frequency) },
            // The operator's hold reaches gail's phone as a re-INVITE (sendonly), and the release as sendrecv.
            ...(caller.name === 'gail'
              ? ([
                  { kind: 'answerReinvite', rtpPort: sinks[i]!.port, timeoutMs: 60_000, requestMatches: 'a=sendonly', direction: 'recvonly' },
                  { kind: 'answerReinvite', rtpPort: sinks[i]!.port, timeoutMs: 60_000, requestMatches: 'a=sendrecv' },
                ] as const)
              : []),
            { kind: 'expectBye', timeoutMs: 120_000 },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 46020 + i, mediaPort: 46700 + 10 * i, timeoutSeconds: 150 },
      ),
    );
    try {
      const conference = h.server.app.conferenceManager;
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 3, 20_000, 'three callers in meeting 1000', runs);
      const participants = (await h.api('GET', '/conference/v1/meetings/1000/participants')).json.participants as Array<{ participant_id: number; call_id: string }>;
      const idOf = (run: SippRun): number => participants.find((p) => p.call_id.includes(`-${run.process.pid}@`))!.participant_id;
      const [gailId, gusId] = [idOf(runs[1]!), idOf(runs[2]!)];
      expect((await h.api('GET', `/conference/v1/calls/${gailId}`)).json).toMatchObject({ holdMode: 0, gainLevel: 0 });
      let heard = await listen(sinks, callers);
      const gusAtHolm = heard[0]![2]!;
      expect(gusAtHolm, JSON.stringify(heard)).toBeGreaterThan(HEARD);

      // holdMode 40: gail hears music instead of the room and nobody hears her.
      const held = await h.api('PUT', `/conference/v1/calls/${gailId}`, { body: { holdMode: 40 } });
      expect(held.status).toBe(200);
      expect(held.json).toMatchObject({ id: gailId, holdMode: 40 });
      const heldSince = Date.now();
      heard = await listen(sinks, callers);
      expect(heard[1]![0], JSON.stringify(heard)).toBeLessThan(NOT_HEARD); // gail does not hear holm
      expect(heard[1]![2], JSON.stringify(heard)).toBeLessThan(NOT_HEARD); // nor gus
      expect(rms(sinks[1]!.samplesSince(heldSince)), 'gail hears music').toBeGreaterThan(100);
      expect(heard[0]![1], JSON.stringify(heard)).toBeLessThan(NOT_HEARD); // holm does not hear gail
      expect(heard[2]![0], JSON.stringify(heard)).toBeGreaterThan(HEARD); // gus still hears holm
      expect((await h.api('PUT', `/conference/v1/calls/${gailId}`, { body: { holdMode: 0 } })).json.holdMode).toBe(0);
      heard = await listen(sinks, callers);
      expect(heard[1]![0], JSON.stringify(heard)).toBeGreaterThan(HEARD); // gail hears holm again
      expect(heard[0]![1], JSON.stringify(heard)).toBeGreaterThan(HEARD); // holm hears gail again

      // gainLevel -4 is -12 dB on what gus says; 9 is out of range and changes nothing.
      const quiet = await h.api('PUT', `/conference/v1/calls/${gusId}`, { body: { gainLevel: -4 } });
      expect(quiet.status).toBe(200);
      expect(quiet.json).toMatchObject({ id: gusId, gainLevel: -4 });
      heard = await listen(sinks, callers);
      expect(heard[0]![2], JSON.stringify({ gusAtHolm, heard })).toBeLessThan(gusAtHolm / 2);
      expect(heard[0]![2], JSON.stringify(heard)).toBeGreaterThan(NOT_HEARD);
      const refused = await h.api('PUT', `/conference/v1/calls/${gusId}`, { body: { gainLevel: 9, holdMode: 40 } });
      expect(refused.status).toBe(422);
      expect(refused.json.errors[0].field).toBe('gainLevel');
      expect((await h.api('GET', `/conference/v1/calls/${gusId}`)).json).toMatchObject({ gainLevel: -4, holdMode: 0 });
      expect((await h.api('PUT', `/conference/v1/calls/${gusId}`, { body: { holdMode: 20 } })).json.errors[0].field).toBe('holdMode');

      // A room with a live meeting can be neither renumbered nor deleted: its callers would be stranded.
      const renumber = await h.api('PUT', '/conference/v1/meetingRooms/1000', { body: { meetingNumber: 1001 } });
      expect(renumber.status).toBe(409);
      expect(renumber.json.errors[0].field).toBe('meetingNumber');
      expect((await h.api('DELETE', '/conference/v1/meetingRooms/1000')).status).toBe(409);
      expect((await h.api('GET', '/conference/v1/meetingRooms/1000')).status).toBe(200);

      expect((await h.api('DELETE', '/conference/v1/meetings/1000')).status).toBe(204);
      for (const run of runs) {
        const result = await run.done;
        expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      }
      // Once the meeting is over, renumbering is fine (and is undone for the other tests).
      await waitFor(() => h.server.app.conferenceManager.getMeeting(1000) === undefined, 5_000, 'meeting 1000 to end');
      expect((await h.api('PUT', '/conference/v1/meetingRooms/1000', { body: { meetingNumber: 1001 } })).status).toBe(200);
      expect((await h.api('PUT', '/conference/v1/meetingRooms/1001', { body: { meetingNumber: 1000 } })).status).toBe(200);
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  });
});
