/**
 * An invited callee is a full member: host A (sipp) presses *8 and a number;
 * the bridge dials a sipp callee through the outbound trunk. Once in, the
 * callee presses *1 by RFC 4733 (a pcap sipp replays next to its tone): it
 * hears "you are muted" (the Debian prompt itself, by cross-correlation),
 * A stops hearing the callee's tone; *1 again: "unmuted", and A hears it
 * again. An attendee the API calls out as a host uses the host keys
 * (*92/*93); its *3 takes it out of the meeting at once, plays it goodbye
 * and only then hangs up (the farewell dial-in callers get too). And bad
 * input in the meeting: an overlong *8 number gets the error tone and
 * nothing is dialed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Participant } from '../../src/conference/Participant.js';
import { CallerMedia } from '../support/callerMedia.js';
import { peakToneLevel, promptMatch } from '../support/promptMatch.js';
import { RtpSink } from '../support/rtpSink.js';
import { bindUdp } from '../support/udp.js';
import { answeringCallee, runCallee, type SippCallee } from '../support/sippCallee.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { sleep, waitFor } from '../support/wait.js';
import { apiClient } from './apiClient.js';
import { cleanupScene, endScene, HEARD, level, listen, meetingNow, NOT_HEARD, startScene, type Scene } from './keypadScene.js';

const PORTS = { sip: 19100, http: 19102, rtpMin: 19400, rtpMax: 19499 };
const CALLEE = { sipPort: 19120, mediaPort: 19820, sinkPort: 19704 };
const PROMPTS = '/usr/share/asterisk/sounds/en_US_f_Allison';
/** When the callee presses *1, after answering; and again. */
const FIRST_PRESS_MS = 5000;
const ERROR_TONE_HZ = 300;
const SECOND_PRESS_MS = 7000;

let server: TestServer;
let media: CallerMedia;
let dir: string;
let api: ReturnType<typeof apiClient>;
const ADMIN: [string, string] = ['admin', 'invited-keypad-password'];

/** Answers, streams `tonePath`, presses the keys of each pcap by RFC 4733 (after FIRST_PRESS_MS, then SECOND_PRESS_MS), then waits for our BYE. */
function pressingCallee(tonePath: string, ...keyPaths: string[]): string {
  const presses = keyPaths
    .map((path, i) => `<pause milliseconds="${i === 0 ? FIRST_PRESS_MS : SECOND_PRESS_MS}"/>
<nop><action><exec play_pcap_audio="${path}"/></action></nop>`)
    .join('\n');
  return answeringCallee(CALLEE.sinkPort, tonePath, 500, presses);
}

/**
 * Once the scene's one caller (`first`) is in meeting 1000, the API calls out
 * `number` with seed 004's `role` (1 host, 2 participant) and it joins (the
 * trunk leads to the test's callee). Returns the attendee's call id.
 */
async function callOutAttendee(scene: Scene, first: string, number: string, role: 1 | 2): Promise<string> {
  const { runs } = scene;
  await waitFor(() => meetingNow(server)?.participants.length === 1, 20_000, `${first} in the meeting`, runs);
  const placed = await api('POST', '/conference/v1/meetings/1000/calls', { body: { number, role } });
  expect(placed.status, placed.text).toBe(202);
  await waitFor(() => meetingNow(server)?.participants.length === 2, 20_000, 'the attendee to join', runs);
  return placed.json.callId as string;
}

beforeAll(async () => {
  media = new CallerMedia();
  dir = mkdtempSync(join(tmpdir(), 'invited-'));
  server = await startTestServer(
    PORTS,
    (config) => {
      const trunk = config.trunks.find((t) => t.outbound)!;
      trunk.outbound!.proxy = { host: '127.0.0.1', port: CALLEE.sipPort, transport: 'udp' };
    },
    { ADMIN_PASSWORD: ADMIN[1] },
  );
  api = apiClient(PORTS.http, ADMIN);
});

afterAll(async () => {
  await server?.stop();
  media?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('an invited callee has the in-meeting keypad', () => {
  it('*1 by RFC 4733 mutes and unmutes the callee, confirmed to it, heard (or not) by the host', async () => {
    // The host streams nothing: what the callee hears is the bridge's prompts alone.
    const C = 900;
    let scene: Scene | undefined;
    const calleeSink = await RtpSink.open(CALLEE.sinkPort);
    const callee: SippCallee = runCallee(
      pressingCallee(media.tone('callee', C), media.digits('callee-mute', '*1'), media.digits('callee-unmute', '*1')),
      { sipPort: CALLEE.sipPort, mediaPort: CALLEE.mediaPort },
      dir,
    );
    try {
      scene = await startScene(server, media, { serverPort: PORTS.sip, sipPort: 19110, sinkBase: 19700, mediaBase: 19800 }, [
        { name: 'hana', role: 'host', presses: [[3000, '*815551234#']] },
      ]);
      const { sinks, runs } = scene;
      await waitFor(() => meetingNow(server)?.participants.length === 2, 40_000, 'the callee to join', runs);
      const invited: Participant = meetingNow(server)!.participants[1]!;
      expect(invited.role).toBe('participant');
      const [before] = await listen(sinks);
      expect(level(before!, C)).toBeGreaterThan(HEARD);

      await waitFor(() => invited.muted, 20_000, 'the callee’s *1 to mute it', runs);
      const mutedAt = Date.now();
      const [whileMuted] = await listen(sinks);
      expect(level(whileMuted!, C)).toBeLessThan(NOT_HEARD);
      await sleep(500);
      expect(promptMatch(calleeSink.samplesSince(mutedAt - 200), `${PROMPTS}/conf-muted.wav`)).toBeGreaterThan(0.9);

      await waitFor(() => !invited.muted, 20_000, 'the callee’s second *1 to unmute it', runs);
      const unmutedAt = Date.now();
      const [afterUnmute] = await listen(sinks);
      expect(level(afterUnmute!, C)).toBeGreaterThan(HEARD);
      expect(promptMatch(calleeSink.samplesSince(unmutedAt - 200), `${PROMPTS}/conf-unmuted.wav`)).toBeGreaterThan(0.9);

      await endScene(server, scene);
      const result = await callee.done;
      expect(result.code, result.output).toBe(0);
    } finally {
      cleanupScene(scene);
      callee.process.kill();
      calleeSink.close();
    }
  }, 120_000);

  it('an overlong *8 number (16 digits) gets the error tone: nobody is called, the caller stays', async () => {
    let scene: Scene | undefined;
    // Where the outbound trunk points: any INVITE would land here.
    const trunkEnd = await bindUdp(CALLEE.sipPort);
    let invites = 0;
    trunkEnd.on('message', () => invites++);
    try {
      scene = await startScene(server, media, { serverPort: PORTS.sip, sipPort: 19112, sinkBase: 19710, mediaBase: 19810 }, [
        { name: 'hugo', role: 'host', presses: [[3000, '*81234567890123456#']] },
      ]);
      const { sinks, runs } = scene;
      await waitFor(() => meetingNow(server)?.participants.length === 1, 20_000, 'hugo in the meeting', runs);
      const joinedAt = Date.now();
      // The error tone (PromptLibrary TONES.error): 300 Hz.
      await waitFor(() => peakLevel(sinks[0]!, joinedAt) > HEARD, 20_000, 'the error tone', runs);
      await sleep(2000);
      expect(meetingNow(server)!.participants).toHaveLength(1);
      expect(invites).toBe(0);
      await endScene(server, scene);
    } finally {
      cleanupScene(scene);
      trunkEnd.close();
    }
  }, 60_000);

  it('an attendee the API calls out as a host has the host keys: its *92 locks the meeting, *93 unlocks it', async () => {
    let scene: Scene | undefined;
    const callee: SippCallee = runCallee(
      pressingCallee(media.tone('attendee', 700), media.digits('attendee-lock', '*92'), media.digits('attendee-unlock', '*93')),
      { sipPort: CALLEE.sipPort, mediaPort: CALLEE.mediaPort },
      dir,
    );
    const calleeSink = await RtpSink.open(CALLEE.sinkPort);
    try {
      scene = await startScene(server, media, { serverPort: PORTS.sip, sipPort: 19114, sinkBase: 19714, mediaBase: 19830 }, [{ name: 'pia', role: 'participant' }]);
      const { runs } = scene;
      const attendeeCallId = await callOutAttendee(scene, 'pia', '+15551230007', 1);
      const meeting = meetingNow(server)!;
      expect(meeting.participants.find((p) => p.callId === attendeeCallId)?.role).toBe('host');
      expect(meeting.locked).toBe(false);
      await waitFor(() => meeting.locked, 20_000, 'the attendee’s *92 to lock the meeting', runs);
      await waitFor(() => !meeting.locked, 20_000, 'the attendee’s *93 to unlock it', runs);
      await endScene(server, scene);
      const result = await callee.done;
      expect(result.code, result.output).toBe(0);
    } finally {
      cleanupScene(scene);
      callee.process.kill();
      calleeSink.close();
    }
  }, 90_000);

  it('an attendee\'s *3 takes it out of the meeting at once, then it hears goodbye before our BYE', async () => {
    let scene: Scene | undefined;
    const callee: SippCallee = runCallee(
      pressingCallee(media.tone('leaver', 800), media.digits('leaver-exit', '*3')),
      { sipPort: CALLEE.sipPort, mediaPort: CALLEE.mediaPort },
      dir,
    );
    const calleeSink = await RtpSink.open(CALLEE.sinkPort);
    try {
      scene = await startScene(server, media, { serverPort: PORTS.sip, sipPort: 23010, sinkBase: 23310, mediaBase: 23320 }, [{ name: 'quinn', role: 'host' }]);
      const { runs } = scene;
      const attendeeCallId = await callOutAttendee(scene, 'quinn', '+15551230008', 2);
      const meeting = meetingNow(server)!;
      await waitFor(() => meeting.participants.length === 1, 20_000, 'the attendee’s *3 to take it out', runs);
      const leftAt = Date.now();
      // Out of the meeting, the call still up while goodbye plays; the BYE follows.
      const result = await callee.done;
      expect(result.code, result.output).toBe(0);
      expect(Date.now() - leftAt).toBeGreaterThan(300);
      expect(promptMatch(calleeSink.samplesSince(leftAt - 200), `${PROMPTS}/goodbye.wav`)).toBeGreaterThan(0.9);
      expect(meeting.participants.map((p) => p.callId)).not.toContain(attendeeCallId);
      await endScene(server, scene);
    } finally {
      cleanupScene(scene);
      callee.process.kill();
      calleeSink.close();
    }
  }, 90_000);
});

describe('an invited callee at the meeting\'s end', () => {
  it('when the host leaves a stop_how moderator room, the attendee hears "the leader has left", goodbye, then our BYE', async () => {
    let scene: Scene | undefined;
    const rule = await api('PUT', '/conference/v1/meetingRooms/1000', {
      body: { attributes: [{ name: 'conference_stop_how', value: 'moderator' }, { name: 'conference_stop_wait', value: '0' }] },
    });
    expect(rule.status, rule.text).toBe(200);
    const callee: SippCallee = runCallee(pressingCallee(media.tone('stayer', 750)), { sipPort: CALLEE.sipPort, mediaPort: CALLEE.mediaPort }, dir);
    const calleeSink = await RtpSink.open(CALLEE.sinkPort);
    try {
      scene = await startScene(server, media, { serverPort: PORTS.sip, sipPort: 23012, sinkBase: 23330, mediaBase: 23340 }, [{ name: 'rosa', role: 'host' }]);
      const { runs } = scene;
      await callOutAttendee(scene, 'rosa', '+15551230009', 2);
      const meeting = meetingNow(server)!;
      await waitFor(() => meeting.participants.every((p) => p.leg.playbackId === undefined), 20_000, 'entry prompts to finish', runs);
      const host = meeting.participants.find((p) => p.role === 'host')!;
      // rosa's sipp takes a BYE only once its scenario waits for one (after its keys and pause).
      await sleep(3000);
      const endedAt = Date.now();
      expect((await api('DELETE', `/conference/v1/calls/${host.id}`)).status).toBe(204);
      for (const result of await Promise.all(runs.map((run) => run.done))) expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      const result = await callee.done;
      expect(result.code, result.output).toBe(0);
      // The BYE came after both prompts (about 2.5 s of them), not at once.
      expect(Date.now() - endedAt).toBeGreaterThan(1500);
      const heard = calleeSink.samplesSince(endedAt - 200);
      expect(promptMatch(heard, `${PROMPTS}/conf-leaderhasleft.wav`)).toBeGreaterThan(0.9);
      expect(promptMatch(heard, `${PROMPTS}/goodbye.wav`)).toBeGreaterThan(0.9);
      expect(meeting.ended).toBe(true);
    } finally {
      await api('PUT', '/conference/v1/meetingRooms/1000', {
        body: { attributes: [{ name: 'conference_stop_how', value: null }, { name: 'conference_stop_wait', value: null }] },
      });
      cleanupScene(scene);
      callee.process.kill();
      calleeSink.close();
    }
  }, 90_000);
});

/** The strongest error-tone level over 400 ms windows of what the sink heard since `since`. */
function peakLevel(sink: RtpSink, since: number): number {
  return peakToneLevel(sink.samplesSince(since), ERROR_TONE_HZ);
}
