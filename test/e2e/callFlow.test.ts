/**
 * The caller's way in, through and out of a meeting, end to end: real sipp
 * callers over UDP, the real server, rooms and DID groups written into its
 * store with the attributes under test before it starts. What each caller
 * hears is decoded from the RTP the bridge sends to a test-owned port and
 * compared with the Debian prompt files themselves (cross-correlation), or
 * with the other callers' tones (Goertzel).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Participant } from '../../src/conference/Participant.js';
import { rms, toneAmplitude } from '../support/audio.js';
import { CallerMedia } from '../support/callerMedia.js';
import { locatePrompt, promptMatch, wavSamples } from '../support/promptMatch.js';
import { provisionRooms, type ProvisionedRoom } from '../support/provisionRooms.js';
import { numberedCallers, type CallerStep, type SippCall } from '../support/sipp.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 25600, http: 25650, rtpMin: 27000, rtpMax: 27399 };
const SOUNDS = '/usr/share/asterisk/sounds';
const HEARD = 1500;
const NOT_HEARD = 300;

let server: TestServer;
let media: CallerMedia;
let dataDir: string;
let pcaps = 0;

/** One DID group (with one DID) and one room per scenario, so scenarios do not meet. */
const ROOMS: Array<Omit<ProvisionedRoom, 'codes'>> = [
  { did: '15550601', meetingNumber: 2001, groupAttributes: { conference_language: 'ES' } },
  { did: '15550602', meetingNumber: 2002, roomAttributes: { pin: '4321', moderator_pin: '9999' } },
  { did: '15550603', meetingNumber: 2003, roomAttributes: { conference_start_how: 'moderator' } },
  { did: '15550604', meetingNumber: 2004, roomAttributes: { conference_stop_how: 'moderator', conference_stop_wait: '2' } },
  { did: '15550605', meetingNumber: 2005, roomAttributes: { max_members: '1' } },
  { did: '15550606', meetingNumber: 2006, roomAttributes: { conference_mute_policy: 'p' } },
  { did: '15550607', meetingNumber: 2007, didAttributes: { dnis_welcomeprompt: 'conf-hasjoin' } },
  { did: '15550608', meetingNumber: 2008, roomAttributes: { call_maxduration: '3', call_announceparticipantcount: 'hpl' } },
  { did: '15550609', meetingNumber: 2009, roomAttributes: { call_jobcodeonenter: 'on' } },
];
const CODES = { host: '1111', participant: '2222', listener: '3333' } as const;

beforeAll(async () => {
  media = new CallerMedia();
  dataDir = mkdtempSync(join(tmpdir(), 'callflow-data-'));
  provisionRooms(dataDir, ROOMS.map((r) => ({ ...r, codes: CODES })));
  server = await startTestServer(PORTS, (config) => (config.ivr.digitTimeoutSeconds = 2), {}, dataDir);
});

afterAll(async () => {
  await server?.stop();
  media?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Places one sipp call to `did`; `steps` follow the answer. */
const call = numberedCallers({ serverPort: PORTS.sip, sinkBase: 27500, sipBase: 25610, mediaBase: 27800, timeoutSeconds: 90 });

const keys = (digits: string): CallerStep => ({ kind: 'pcap', path: media.digits(`keys-${++pcaps}`, digits) });

function participantOf(meetingNumber: number, c: SippCall): Participant | undefined {
  return server.app.conferenceManager.getMeeting(meetingNumber)?.participants.find((p) => p.callId.includes(`-${c.run.process.pid}@`));
}

async function finish(...calls: SippCall[]): Promise<void> {
  const results = await Promise.all(calls.map((c) => c.run.done));
  for (const c of calls) c.sink.close();
  for (const r of results) expect(r.code, r.errors + r.output.slice(-1500)).toBe(0);
}

describe('call flow end to end', () => {
  it('a Spanish DID group (conference_language ES) asks for the code with the Spanish conf-getpin', async () => {
    // The Spanish request lasts 4.2 s; listen to all of it.
    const c = await call('15550601', [{ kind: 'pause', ms: 5500 }, { kind: 'bye' }]);
    try {
      await waitFor(() => c.sink.samplesSince(0).length >= 8000 * 5, 10_000, 'five seconds of prompt', [c.run]);
      const heard = c.sink.samplesSince(0);
      const spanish = promptMatch(heard, `${SOUNDS}/es_MX_f_Allison/conf-getpin.wav`);
      const english = promptMatch(heard, `${SOUNDS}/en_US_f_Allison/conf-getpin.wav`);
      expect(spanish, `es ${spanish.toFixed(3)} en ${english.toFixed(3)}`).toBeGreaterThan(0.9);
      expect(english).toBeLessThan(0.6);
    } finally {
      await finish(c);
    }
  });

  it('plays the DID welcome prompt (dnis_welcomeprompt) before the access code request', async () => {
    const c = await call('15550607', [{ kind: 'pause', ms: 4500 }, { kind: 'bye' }]);
    try {
      await waitFor(() => c.sink.samplesSince(0).length >= 8000 * 4, 10_000, 'four seconds of prompts', [c.run]);
      const heard = c.sink.samplesSince(0);
      const welcome = locatePrompt(heard, `${SOUNDS}/en_US_f_Allison/conf-hasjoin.wav`);
      const request = locatePrompt(heard, `${SOUNDS}/en_US_f_Allison/conf-getpin.wav`);
      expect(welcome.score).toBeGreaterThan(0.9);
      expect(request.score).toBeGreaterThan(0.9);
      // The greeting first, the request right after it.
      const welcomeLength = wavSamples(`${SOUNDS}/en_US_f_Allison/conf-hasjoin.wav`).length;
      expect(request.at - welcome.at).toBeGreaterThanOrEqual(welcomeLength - 160);
    } finally {
      await finish(c);
    }
  });

  it('asks for the room PIN: the moderator PIN makes a host, wrong PINs three times end with goodbye and BYE', async () => {
    const host = await call('15550602', [
      { kind: 'pause', ms: 300 },
      keys(`${CODES.participant}#`),
      { kind: 'pause', ms: 1500 },
      keys('9999#'),
      { kind: 'expectBye', timeoutMs: 60_000 },
    ]);
    const intruder = await call('15550602', [
      { kind: 'pause', ms: 300 },
      keys(`${CODES.participant}#`),
      { kind: 'pause', ms: 1500 },
      keys('1#'),
      { kind: 'pause', ms: 1500 },
      keys('2#'),
      { kind: 'pause', ms: 1500 },
      keys('3#'),
      { kind: 'expectBye', timeoutMs: 20_000 },
    ]);
    try {
      await waitFor(() => participantOf(2002, host) !== undefined, 15_000, 'the PIN host in meeting 2002', [host.run]);
      expect(participantOf(2002, host)!.role).toBe('host');
      const result = await intruder.run.done;
      expect(result.code, result.errors + result.output.slice(-1500)).toBe(0);
      // It never got in, and its last words were the bad-PIN prompt and goodbye.
      expect(server.app.conferenceManager.getMeeting(2002)!.participants).toHaveLength(1);
      const heard = intruder.sink.samplesSince(0);
      expect(promptMatch(heard, `${SOUNDS}/en_US_f_Allison/confbridge-pin-bad.wav`)).toBeGreaterThan(0.9);
      expect(promptMatch(heard.subarray(Math.max(0, heard.length - 8000 * 3)), `${SOUNDS}/en_US_f_Allison/goodbye.wav`)).toBeGreaterThan(0.9);
    } finally {
      server.app.conferenceManager.getMeeting(2002)?.end();
      await finish(host);
      intruder.sink.close();
    }
  });

  it('conference_start_how moderator: a participant waits on hold with music until the host arrives, then they hear each other', async () => {
    const participant = await call('15550603', [
      { kind: 'pause', ms: 300 },
      keys(`${CODES.participant}#`),
      { kind: 'pause', ms: 1500 },
      { kind: 'stream', path: media.tone('waiter', 450) },
      { kind: 'expectBye', timeoutMs: 60_000 },
    ]);
    let host: SippCall | undefined;
    try {
      await waitFor(() => participantOf(2003, participant) !== undefined, 15_000, 'the participant in meeting 2003', [participant.run]);
      const waiter = participantOf(2003, participant)!;
      expect(waiter.held).toBe(true);
      // conf-waitforleader, then music: sound, not silence.
      await sleep(4000);
      const waiting = participant.sink.samplesSince(Date.now() - 1500);
      expect(rms(waiting)).toBeGreaterThan(200);

      host = await call('15550603', [
        { kind: 'pause', ms: 300 },
        keys(`${CODES.host}#`),
        { kind: 'pause', ms: 1500 },
        { kind: 'stream', path: media.tone('leader', 1050) },
        { kind: 'expectBye', timeoutMs: 60_000 },
      ]);
      await waitFor(() => !waiter.held, 15_000, 'the participant released by the host', [participant.run, host.run]);
      // conf-placeintoconf plays over the room; then each hears the other.
      await waitFor(() => waiter.leg.playbackId === undefined, 15_000, 'the start prompt to end');
      await sleep(800);
      const since = Date.now();
      await sleep(1500);
      const participantHeard = participant.sink.samplesSince(since);
      const hostHeard = host.sink.samplesSince(since);
      expect(toneAmplitude(participantHeard, 1050)).toBeGreaterThan(HEARD);
      expect(toneAmplitude(hostHeard, 450)).toBeGreaterThan(HEARD);
    } finally {
      server.app.conferenceManager.getMeeting(2003)?.end();
      await finish(participant, ...(host ? [host] : []));
    }
  });

  it('conference_stop_how moderator: when the host leaves the others hear conf-leaderhasleft and are hung up after stop_wait', async () => {
    const host = await call('15550604', [
      { kind: 'pause', ms: 300 },
      keys(`${CODES.host}#`),
      { kind: 'pause', ms: 4000 },
      { kind: 'bye' },
    ]);
    const participant = await call('15550604', [
      { kind: 'pause', ms: 300 },
      keys(`${CODES.participant}#`),
      { kind: 'expectBye', timeoutMs: 30_000 },
    ]);
    try {
      await waitFor(() => participantOf(2004, participant) !== undefined, 15_000, 'the participant in meeting 2004', [participant.run]);
      const hostResult = await host.run.done;
      expect(hostResult.code, hostResult.errors).toBe(0);
      const leftAt = Date.now();
      // Not hung up at once: the participant stays through the stop wait (2 s).
      expect(participantOf(2004, participant)).toBeDefined();
      const result = await participant.run.done;
      expect(result.code, result.errors + result.output.slice(-1500)).toBe(0);
      const heard = participant.sink.samplesSince(leftAt - 200);
      expect(promptMatch(heard, `${SOUNDS}/en_US_f_Allison/conf-leaderhasleft.wav`)).toBeGreaterThan(0.9);
      expect(promptMatch(heard, `${SOUNDS}/en_US_f_Allison/goodbye.wav`)).toBeGreaterThan(0.9);
      await waitFor(() => server.app.conferenceManager.getMeeting(2004) === undefined, 5000, 'meeting 2004 to end');
    } finally {
      host.sink.close();
      participant.sink.close();
    }
  });

  it('max_members 1: the second caller hears conf-full and goodbye and is hung up; the first stays', async () => {
    const first = await call('15550605', [
      { kind: 'pause', ms: 300 },
      keys(`${CODES.participant}#`),
      { kind: 'expectBye', timeoutMs: 60_000 },
    ]);
    let second: SippCall | undefined;
    try {
      await waitFor(() => participantOf(2005, first) !== undefined, 15_000, 'the first caller in meeting 2005', [first.run]);
      second = await call('15550605', [
        { kind: 'pause', ms: 300 },
        keys(`${CODES.host}#`),
        { kind: 'expectBye', timeoutMs: 20_000 },
      ]);
      const result = await second.run.done;
      expect(result.code, result.errors + result.output.slice(-1500)).toBe(0);
      const heard = second.sink.samplesSince(0);
      expect(promptMatch(heard, `${SOUNDS}/en_US_f_Allison/conf-full.wav`)).toBeGreaterThan(0.9);
      expect(promptMatch(heard, `${SOUNDS}/en_US_f_Allison/goodbye.wav`)).toBeGreaterThan(0.9);
      expect(server.app.conferenceManager.getMeeting(2005)!.participants).toHaveLength(1);
    } finally {
      server.app.conferenceManager.getMeeting(2005)?.end();
      await finish(first);
      second?.sink.close();
    }
  });

  it('conference_mute_policy p: a participant joins muted and is not heard, while it hears the host', async () => {
    const host = await call('15550606', [
      { kind: 'pause', ms: 300 },
      keys(`${CODES.host}#`),
      { kind: 'pause', ms: 1500 },
      { kind: 'stream', path: media.tone('mp-host', 1050) },
      { kind: 'expectBye', timeoutMs: 60_000 },
    ]);
    const participant = await call('15550606', [
      { kind: 'pause', ms: 300 },
      keys(`${CODES.participant}#`),
      { kind: 'pause', ms: 1500 },
      { kind: 'stream', path: media.tone('mp-part', 450) },
      { kind: 'expectBye', timeoutMs: 60_000 },
    ]);
    try {
      await waitFor(() => participantOf(2006, participant) !== undefined && participantOf(2006, host) !== undefined, 15_000, 'both in meeting 2006', [
        host.run,
        participant.run,
      ]);
      expect(participantOf(2006, participant)!.muted).toBe(true);
      expect(participantOf(2006, host)!.muted).toBe(false);
      await sleep(2500);
      const since = Date.now();
      await sleep(1500);
      expect(toneAmplitude(host.sink.samplesSince(since), 450)).toBeLessThan(NOT_HEARD);
      expect(toneAmplitude(participant.sink.samplesSince(since), 1050)).toBeGreaterThan(HEARD);
    } finally {
      server.app.conferenceManager.getMeeting(2006)?.end();
      await finish(host, participant);
    }
  });

  it('call_maxduration: the call is told "you are the only person", then goodbye when its time is up, and hung up', async () => {
    const c = await call('15550608', [
      { kind: 'pause', ms: 300 },
      keys(`${CODES.participant}#`),
      { kind: 'expectBye', timeoutMs: 20_000 },
    ]);
    try {
      const result = await c.run.done;
      expect(result.code, result.errors + result.output.slice(-1500)).toBe(0);
      const heard = c.sink.samplesSince(0);
      expect(promptMatch(heard, `${SOUNDS}/en_US_f_Allison/conf-onlyperson.wav`)).toBeGreaterThan(0.9);
      expect(promptMatch(heard, `${SOUNDS}/en_US_f_Allison/goodbye.wav`)).toBeGreaterThan(0.9);
    } finally {
      c.sink.close();
    }
  });

  it('a caller who never presses anything hears the request three times, then goodbye, and is hung up', async () => {
    const c = await call('15550606', [{ kind: 'expectBye', timeoutMs: 40_000 }]);
    try {
      const result = await c.run.done;
      expect(result.code, result.errors + result.output.slice(-1500)).toBe(0);
      const heard = c.sink.samplesSince(0);
      expect(promptMatch(heard, `${SOUNDS}/en_US_f_Allison/conf-invalidpin.wav`)).toBeGreaterThan(0.9);
      expect(promptMatch(heard.subarray(Math.max(0, heard.length - 8000 * 3)), `${SOUNDS}/en_US_f_Allison/goodbye.wav`)).toBeGreaterThan(0.9);
    } finally {
      c.sink.close();
    }
  });

  it('an overlong code is refused at once and the caller tries again; then the job code (call_jobcodeonenter) is asked and kept', async () => {
    const c = await call('15550609', [
      { kind: 'pause', ms: 300 },
      // 17 digits (the limit is 16) take 3.4 s to send.
      keys('12345678901234567'),
      // Then the whole "invalid" prompt plays before the next try.
      { kind: 'pause', ms: 7000 },
      keys(`${CODES.participant}#`),
      { kind: 'pause', ms: 1500 },
      keys('42#'),
      { kind: 'expectBye', timeoutMs: 60_000 },
    ]);
    try {
      await waitFor(() => participantOf(2009, c) !== undefined, 20_000, 'the caller in meeting 2009', [c.run]);
      const p = participantOf(2009, c)!;
      expect(p.role).toBe('participant');
      expect(p.jobCode).toBe('42');
      const heard = c.sink.samplesSince(0);
      expect(promptMatch(heard, `${SOUNDS}/en_US_f_Allison/conf-invalidpin.wav`)).toBeGreaterThan(0.9);
      // The beep that asks for the job code.
      expect(promptMatch(heard, `${SOUNDS}/en_US_f_Allison/beep.wav`)).toBeGreaterThan(0.9);
    } finally {
      server.app.conferenceManager.getMeeting(2009)?.end();
      await finish(c);
    }
  });
});
