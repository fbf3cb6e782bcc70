/**
 * Roll call end to end (004 conference_rollcall, _onenter, _onexit): real
 * sipp callers, the real server. Host A joins first and skips its own name
 * with #. Caller B "says" its name after the beep as a 1.2 s burst of a
 * tone no one else uses (an RTP pcap), then is quiet, which ends the
 * recording and lets B in. A must hear B's tone followed by "has joined"
 * (the Debian prompt, found by cross-correlation) and, once B hangs up,
 * the tone again followed by "has left"; never while B is still recording
 * (B is alone in a private room then). With onenter/onexit off, A hears no
 * name; a caller who says nothing joins all the same, unannounced. The
 * recorded names are gone from the data directory once the calls end, and
 * leftovers of an earlier run are removed at start-up.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeMulaw, rms, sine } from '../support/audio.js';
import { CallerMedia } from '../support/callerMedia.js';
import { writeRtpPcap } from '../support/pcap.js';
import { peakToneLevel, promptMatch } from '../support/promptMatch.js';
import { buildRtp, type TimedPacket } from '../support/rtpPackets.js';
import { provisionRooms } from '../support/provisionRooms.js';
import { numberedCallers, type CallerStep, type SippCall } from '../support/sipp.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 19000, http: 19002, rtpMin: 19200, rtpMax: 19399 };
const PROMPTS = '/usr/share/asterisk/sounds/en_US_f_Allison';
/** B's "name". */
const NAME_HZ = 1100;
const HEARD = 1500;
const NOT_HEARD = 300;
/** Long enough for a name of about 2 s and a prompt of 1.8 s. */
const ANNOUNCEMENT_MS = 5000;

const ROOMS: Array<{ did: string; meetingNumber: number; room: Record<string, string> }> = [
  { did: '15550701', meetingNumber: 3001, room: { conference_rollcall: 'on' } },
  { did: '15550702', meetingNumber: 3002, room: { conference_rollcall: 'on', conference_rollcall_onenter: 'off', conference_rollcall_onexit: 'off' } },
  { did: '15550703', meetingNumber: 3003, room: { announce_caller_name: 'true' } },
];
const CODES = { host: '1111', participant: '2222' } as const;

let server: TestServer;
let media: CallerMedia;
let dataDir: string;
let burstPcap: string;

/** 1.2 s of NAME_HZ then 1.5 s of µ-law silence, PCMU, one SSRC: a name and the pause after it. */
function writeNameBurst(path: string): void {
  const tone = encodeMulaw(sine(NAME_HZ, 8000 * 1.2, 8000));
  const quiet = Buffer.alloc(8000 * 1.5, 0xff);
  const audio = Buffer.concat([tone, quiet]);
  const packets: TimedPacket[] = [];
  for (let i = 0; i * 160 < audio.length; i++) {
    const payload = audio.subarray(i * 160, i * 160 + 160);
    packets.push({ atMs: i * 20, packet: buildRtp({ payloadType: 0, sequence: 5000 + i, timestamp: 80_000 + i * 160, ssrc: 0x4e414d45, marker: i === 0 }, payload) });
  }
  writeRtpPcap(path, packets);
}

beforeAll(async () => {
  media = new CallerMedia();
  dataDir = mkdtempSync(join(tmpdir(), 'rollcall-data-'));
  // A leftover of an earlier run, which start-up must remove.
  mkdirSync(join(dataDir, 'names', 'call-stale'), { recursive: true });
  writeFileSync(join(dataDir, 'names', 'call-stale', 'name.wav'), 'old');
  burstPcap = join(dataDir, 'name-burst.pcap');
  writeNameBurst(burstPcap);
  provisionRooms(
    dataDir,
    ROOMS.map((r) => ({
      did: r.did,
      meetingNumber: r.meetingNumber,
      codes: CODES,
      // Entry and exit tones off: whatever A hears of B is B's name.
      roomAttributes: { ...r.room, conference_entrytones: 'off', conference_exittones: 'off' },
    })),
  );
  server = await startTestServer(PORTS, undefined, {}, dataDir);
});

afterAll(async () => {
  await server?.stop();
  media?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const call = numberedCallers({ serverPort: PORTS.sip, sinkBase: 19500, sipBase: 19010, mediaBase: 19600, timeoutSeconds: 90 });

const keys = (digits: string): CallerStep => ({ kind: 'pcap', path: media.digits(`keys-${process.hrtime.bigint()}`, digits) });

/** Host A: the code, # during "say your name" (no name), then stays until the meeting ends. */
const hostSteps = (): CallerStep[] => [
  { kind: 'pause', ms: 500 },
  keys(`${CODES.host}#`),
  { kind: 'pause', ms: 2000 },
  keys('#'),
  { kind: 'expectBye', timeoutMs: 60_000 },
];

/** Caller B: the code, then (after the 4.3 s prompt and the beep) its name, or nothing; hangs up `stayMs` after. */
const guestSteps = (saysName: boolean, stayMs: number): CallerStep[] => [
  { kind: 'pause', ms: 500 },
  keys(`${CODES.participant}#`),
  { kind: 'pause', ms: 7000 },
  ...(saysName ? [{ kind: 'pcap', path: burstPcap } as CallerStep] : []),
  { kind: 'pause', ms: stayMs },
  { kind: 'bye' },
];

const participants = (meetingNumber: number): number => server.app.conferenceManager.getMeeting(meetingNumber)?.participants.length ?? 0;

interface Heard {
  whileRecording: Int16Array;
  afterJoin: Int16Array;
  afterLeave: Int16Array;
}

/** Runs A then B into `room`; returns what A heard in each phase. */
async function scene(room: (typeof ROOMS)[number], saysName: boolean): Promise<Heard> {
  const a = await call(room.did, hostSteps());
  let b: SippCall | undefined;
  try {
    await waitFor(() => participants(room.meetingNumber) === 1, 20_000, 'A in the meeting', [a.run]);
    const aJoined = Date.now();
    b = await call(room.did, guestSteps(saysName, 9000));
    await waitFor(() => participants(room.meetingNumber) === 2, 30_000, 'B in the meeting', [a.run, b.run]);
    const bJoined = Date.now();
    await sleep(ANNOUNCEMENT_MS);
    const bRun = b.run;
    await waitFor(() => participants(room.meetingNumber) === 1, 30_000, 'B to hang up', [a.run]);
    const bLeft = Date.now();
    const bResult = await bRun.done;
    expect(bResult.code, bResult.errors + bResult.output.slice(-1500)).toBe(0);
    await sleep(ANNOUNCEMENT_MS);
    const heard: Heard = {
      whileRecording: a.sink.samplesSince(aJoined + 1500).slice(0, ((bJoined - aJoined - 1500) * 8000) / 1000),
      afterJoin: a.sink.samplesSince(bJoined).slice(0, (ANNOUNCEMENT_MS * 8000) / 1000),
      afterLeave: a.sink.samplesSince(bLeft),
    };
    server.app.conferenceManager.getMeeting(room.meetingNumber)?.end();
    const aResult = await a.run.done;
    expect(aResult.code, aResult.errors + aResult.output.slice(-1500)).toBe(0);
    return heard;
  } finally {
    a.run.process.kill();
    b?.run.process.kill();
    a.sink.close();
    b?.sink.close();
  }
}

describe('roll call end to end', () => {
  it('start-up removed the names left by an earlier run', () => {
    expect(existsSync(join(dataDir, 'names', 'call-stale'))).toBe(false);
    expect(existsSync(join(dataDir, 'names'))).toBe(true);
  });

  it('conference_rollcall on: A hears B\'s name and "has joined", then the name and "has left"; not while B records', async () => {
    const heard = await scene(ROOMS[0]!, true);
    const report = JSON.stringify({
      whileRecording: peakToneLevel(heard.whileRecording, NAME_HZ),
      afterJoin: peakToneLevel(heard.afterJoin, NAME_HZ),
      afterLeave: peakToneLevel(heard.afterLeave, NAME_HZ),
    });
    expect(peakToneLevel(heard.whileRecording, NAME_HZ), report).toBeLessThan(NOT_HEARD);
    expect(peakToneLevel(heard.afterJoin, NAME_HZ), report).toBeGreaterThan(HEARD);
    expect(promptMatch(heard.afterJoin, `${PROMPTS}/conf-hasjoin.wav`)).toBeGreaterThan(0.9);
    expect(peakToneLevel(heard.afterLeave, NAME_HZ), report).toBeGreaterThan(HEARD);
    expect(promptMatch(heard.afterLeave, `${PROMPTS}/conf-hasleft.wav`)).toBeGreaterThan(0.9);
    // Every call is over: no recorded name is left behind.
    await waitFor(() => readdirSync(join(dataDir, 'names')).length === 0, 5_000, 'the names directory to empty');
  }, 90_000);

  it('onenter and onexit off: B records a name but A hears it neither way', async () => {
    const heard = await scene(ROOMS[1]!, true);
    expect(peakToneLevel(heard.afterJoin, NAME_HZ)).toBeLessThan(NOT_HEARD);
    expect(peakToneLevel(heard.afterLeave, NAME_HZ)).toBeLessThan(NOT_HEARD);
    expect(promptMatch(heard.afterJoin, `${PROMPTS}/conf-hasjoin.wav`)).toBeLessThan(0.6);
  }, 90_000);

  it('001 announce_caller_name, a caller who says nothing: B joins after the longest name, nothing is announced', async () => {
    const heard = await scene(ROOMS[2]!, false);
    expect(rms(heard.afterJoin)).toBeLessThan(100);
    expect(rms(heard.afterLeave)).toBeLessThan(100);
  }, 90_000);

  it('a caller who hangs up while saying their name never joins and leaves nothing behind (room, leg, file)', async () => {
    const engine = server.app.mediaEngine;
    const before = engine.stats();
    // The name starts 7.5 s in; BYE 1 s into it, while it is being recorded.
    const b = await call(ROOMS[0]!.did, [{ kind: 'pause', ms: 500 }, keys(`${CODES.participant}#`), { kind: 'pause', ms: 7000 }, { kind: 'pcap', path: burstPcap }, { kind: 'pause', ms: 1000 }, { kind: 'bye' }]);
    try {
      // While it records, the caller sits in a room of its own, and its name directory exists.
      await waitFor(() => engine.stats().rooms === before.rooms + 1, 20_000, 'the private recording room', [b.run]);
      expect(readdirSync(join(dataDir, 'names'))).toHaveLength(1);
      const result = await b.run.done;
      expect(result.code, result.errors + result.output.slice(-1500)).toBe(0);
      await waitFor(() => engine.stats().rooms === before.rooms && engine.stats().legs === before.legs, 5_000, 'the room and leg to close');
      await waitFor(() => readdirSync(join(dataDir, 'names')).length === 0, 5_000, 'the names directory to empty');
      expect(server.app.conferenceManager.getMeeting(ROOMS[0]!.meetingNumber)).toBeUndefined();
    } finally {
      b.run.process.kill();
      b.sink.close();
    }
  }, 60_000);

  it('a locked meeting refuses a participant at once: "locked", goodbye, BYE, never "say your name"', async () => {
    // A skips its name, then locks the meeting with *92.
    const a = await call(ROOMS[0]!.did, [{ kind: 'pause', ms: 500 }, keys(`${CODES.host}#`), { kind: 'pause', ms: 2000 }, keys('#'), { kind: 'pause', ms: 1500 }, keys('*92'), { kind: 'expectBye', timeoutMs: 60_000 }]);
    let b: SippCall | undefined;
    try {
      await waitFor(() => server.app.conferenceManager.getMeeting(ROOMS[0]!.meetingNumber)?.locked === true, 20_000, 'A to lock the meeting', [a.run]);
      b = await call(ROOMS[0]!.did, [{ kind: 'pause', ms: 500 }, keys(`${CODES.participant}#`), { kind: 'expectBye', timeoutMs: 30_000 }]);
      const result = await b.run.done;
      expect(result.code, result.errors + result.output.slice(-1500)).toBe(0);
      const heard = b.sink.samplesSince(0);
      expect(promptMatch(heard, `${PROMPTS}/conf-locked.wav`)).toBeGreaterThan(0.9);
      expect(promptMatch(heard, `${PROMPTS}/vm-rec-name.wav`)).toBeLessThan(0.6);
      expect(participants(ROOMS[0]!.meetingNumber)).toBe(1);
      server.app.conferenceManager.getMeeting(ROOMS[0]!.meetingNumber)?.end();
      const aResult = await a.run.done;
      expect(aResult.code, aResult.errors + aResult.output.slice(-1500)).toBe(0);
    } finally {
      a.run.process.kill();
      b?.run.process.kill();
      a.sink.close();
      b?.sink.close();
    }
  }, 60_000);
});
