/**
 * Type-ahead end to end: keys pressed during a prompt stop it and count.
 * The caller hears the start of the prompt (cross-correlated with the
 * Debian file) but never its end, and what they typed is acted on: the
 * access code typed over "enter the code" lets them in; a key over roll
 * call's "say your name" skips to the beep; in the meeting, a command typed
 * over the answer to another is carried out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerMedia } from '../support/callerMedia.js';
import { promptMatch } from '../support/promptMatch.js';
import { provisionRooms } from '../support/provisionRooms.js';
import { numberedCallers, type CallerStep, type SippCall } from '../support/sipp.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 19150, http: 19152, rtpMin: 19900, rtpMax: 19999 };
const PROMPTS = '/usr/share/asterisk/sounds/en_US_f_Allison';
const ROOMS = [
  { did: '15550801', meetingNumber: 4001, room: {} as Record<string, string> },
  { did: '15550802', meetingNumber: 4002, room: { conference_rollcall: 'on' } as Record<string, string> },
];

let server: TestServer;
let media: CallerMedia;
let dataDir: string;

beforeAll(async () => {
  media = new CallerMedia();
  dataDir = mkdtempSync(join(tmpdir(), 'typeahead-data-'));
  provisionRooms(
    dataDir,
    ROOMS.map((r) => ({ did: r.did, meetingNumber: r.meetingNumber, codes: { host: '1111' }, roomAttributes: r.room })),
  );
  server = await startTestServer(PORTS, undefined, {}, dataDir);
});

afterAll(async () => {
  await server?.stop();
  media?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const call = numberedCallers({ serverPort: PORTS.sip, sinkBase: 19880, sipBase: 19160, mediaBase: 19840, timeoutSeconds: 60 });

const keys = (digits: string): CallerStep => ({ kind: 'pcap', path: media.digits(`keys-${process.hrtime.bigint()}`, digits) });
const inMeeting = (meetingNumber: number): number => server.app.conferenceManager.getMeeting(meetingNumber)?.participants.length ?? 0;

/** Ends the meeting; the caller, waiting for our BYE, must then have run its scenario to the end. */
async function endMeeting(meetingNumber: number, c: SippCall): Promise<void> {
  server.app.conferenceManager.getMeeting(meetingNumber)?.end();
  const result = await c.run.done;
  expect(result.code, result.errors + result.output.slice(-1500)).toBe(0);
}

describe('type-ahead', () => {
  it('the access code typed over "enter the code" stops the prompt and lets the caller in', async () => {
    // conf-getpin lasts 2.4 s; the code starts 0.8 s in.
    const c = await call(ROOMS[0]!.did, [{ kind: 'pause', ms: 800 }, keys('1111#'), { kind: 'expectBye', timeoutMs: 30_000 }]);
    try {
      await waitFor(() => inMeeting(4001) === 1, 20_000, 'the caller in meeting 4001', [c.run]);
      // Long enough for a prompt that was not stopped to have been heard to its end.
      await sleep(2500);
      const heard = c.sink.samplesSince(0);
      const early = promptMatch(heard, `${PROMPTS}/conf-getpin.wav`, 100);
      const late = promptMatch(heard, `${PROMPTS}/conf-getpin.wav`, 1700);
      expect(early, `early ${early.toFixed(3)} late ${late.toFixed(3)}`).toBeGreaterThan(0.9);
      expect(late, `early ${early.toFixed(3)} late ${late.toFixed(3)}`).toBeLessThan(0.6);
      await endMeeting(4001, c);
    } finally {
      c.run.process.kill();
      c.sink.close();
    }
  }, 60_000);

  it('a key over roll call\'s "say your name" stops it and goes to the beep; the caller joins', async () => {
    // The code ends 1.2 s in; vm-rec-name (4.3 s) follows; the key comes about 1.5 s into it.
    const c = await call(ROOMS[1]!.did, [{ kind: 'pause', ms: 300 }, keys('1111#'), { kind: 'pause', ms: 2500 }, keys('5'), { kind: 'expectBye', timeoutMs: 30_000 }]);
    try {
      // Said nothing after the beep: in after the longest name.
      await waitFor(() => inMeeting(4002) === 1, 20_000, 'the caller in meeting 4002', [c.run]);
      const heard = c.sink.samplesSince(0);
      const early = promptMatch(heard, `${PROMPTS}/vm-rec-name.wav`, 200);
      const late = promptMatch(heard, `${PROMPTS}/vm-rec-name.wav`, 3000);
      const beep = promptMatch(heard, `${PROMPTS}/beep.wav`);
      const report = `early ${early.toFixed(3)} late ${late.toFixed(3)} beep ${beep.toFixed(3)}`;
      expect(early, report).toBeGreaterThan(0.9);
      expect(late, report).toBeLessThan(0.6);
      expect(beep, report).toBeGreaterThan(0.9);
      await endMeeting(4002, c);
    } finally {
      c.run.process.kill();
      c.sink.close();
    }
  }, 60_000);

  it('in the meeting: *1 pressed over the *2 answer stops it and mutes the caller', async () => {
    // In at about 1.3 s; *2 at 2.8 s ("you are the only person", 3.2 s); *1 about 1 s into it.
    const c = await call(ROOMS[0]!.did, [
      { kind: 'pause', ms: 300 },
      keys('1111#'),
      { kind: 'pause', ms: 2500 },
      keys('*2'),
      { kind: 'pause', ms: 1400 },
      keys('*1'),
      { kind: 'expectBye', timeoutMs: 30_000 },
    ]);
    try {
      await waitFor(() => inMeeting(4001) === 1, 20_000, 'the caller in meeting 4001', [c.run]);
      const caller = server.app.conferenceManager.getMeeting(4001)!.participants[0]!;
      await waitFor(() => caller.muted, 20_000, 'the *1 typed over the prompt to mute the caller', [c.run]);
      await sleep(3500);
      const heard = c.sink.samplesSince(0);
      const early = promptMatch(heard, `${PROMPTS}/conf-onlyperson.wav`, 100);
      const late = promptMatch(heard, `${PROMPTS}/conf-onlyperson.wav`, 2200);
      const report = `early ${early.toFixed(3)} late ${late.toFixed(3)}`;
      expect(early, report).toBeGreaterThan(0.9);
      expect(late, report).toBeLessThan(0.6);
      await endMeeting(4001, c);
    } finally {
      c.run.process.kill();
      c.sink.close();
    }
  }, 60_000);
});
