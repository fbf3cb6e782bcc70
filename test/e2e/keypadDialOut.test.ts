/**
 * `*8` end to end: a host (sipp) presses *8, a number and # as SIP INFO;
 * the bridge dials it through the outbound trunk, which points at a second
 * sipp acting as the callee (a UAS script that streams its own tone and
 * whose SDP names a port the test owns). Once answered, the callee is a
 * participant: the host hears the callee's tone and the callee hears the
 * host's. A busy callee gets the host the error tone and nobody joins.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallerMedia } from '../support/callerMedia.js';
import { RtpSink } from '../support/rtpSink.js';
import { answeringCallee, BUSY_CALLEE, RINGING_CALLEE, runCallee as runSippCallee, type SippCallee } from '../support/sippCallee.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { sleep, waitFor } from '../support/wait.js';
import { cleanupScene, endScene, HEARD, level, listen, meetingNow, NOT_HEARD, promptsDone, startScene, type Scene } from './keypadScene.js';

const PORTS = { sip: 25720, http: 25798, rtpMin: 26700, rtpMax: 26899 };
const CALLEE_SIP_PORT = 25740;
const CALLEE_MEDIA_PORT = 26920;
const CALLEE_SINK_PORT = 26460;
/** The error tone (PromptLibrary TONES.error): 300 Hz. */
const ERROR_TONE_HZ = 300;

let server: TestServer;
let media: CallerMedia;
let dir: string;

function runCallee(scenario: string): SippCallee {
  return runSippCallee(scenario, { sipPort: CALLEE_SIP_PORT, mediaPort: CALLEE_MEDIA_PORT }, dir);
}

beforeAll(async () => {
  media = new CallerMedia();
  dir = mkdtempSync(join(tmpdir(), 'callee-'));
  server = await startTestServer(PORTS, (config) => {
    const trunk = config.trunks.find((t) => t.outbound)!;
    trunk.outbound!.proxy = { host: '127.0.0.1', port: CALLEE_SIP_PORT, transport: 'udp' };
  });
});

afterAll(async () => {
  await server?.stop();
  media?.remove();
  rmSync(dir, { recursive: true, force: true });
});

describe('*8 dial-out end to end', () => {
  it('brings the answering callee into the meeting: each hears the other', async () => {
    const [H, C] = [500, 900];
    let scene: Scene | undefined;
    const calleeSink = await RtpSink.open(CALLEE_SINK_PORT);
    const callee = runCallee(answeringCallee(CALLEE_SINK_PORT, media.tone('callee', C)));
    try {
      scene = await startScene(server, media, { serverPort: PORTS.sip, sipPort: 25730, sinkBase: 26440, mediaBase: 26940 }, [
        { name: 'hal', role: 'host', frequency: H, presses: [[3000, '*815551234#']] },
      ]);
      const { sinks, runs } = scene;
      await waitFor(() => meetingNow(server)?.participants.length === 2, 40_000, 'the callee to join meeting 1000', runs);
      const joined = meetingNow(server)!.participants[1]!;
      expect(joined.role).toBe('participant');
      expect(joined.caller).toBe('+15551234');
      await promptsDone(server);
      const [hostHeard] = await listen(sinks);
      const calleeHeard = calleeSink.samplesSince(Date.now() - 1500);
      const report = JSON.stringify({ host: [H, C].map((f) => level(hostHeard!, f)), callee: [H, C].map((f) => level(calleeHeard, f)) });
      expect(level(hostHeard!, C), report).toBeGreaterThan(HEARD); // hal hears the callee
      expect(level(calleeHeard, H), report).toBeGreaterThan(HEARD); // the callee hears hal
      expect(level(hostHeard!, H), report).toBeLessThan(NOT_HEARD); // not his own voice back
      await endScene(server, scene);
      // The meeting ending hung up the callee too: sipp got its BYE and ran to the end.
      const result = await callee.done;
      expect(result.code, result.output).toBe(0);
    } finally {
      cleanupScene(scene);
      callee.process.kill();
      calleeSink.close();
    }
  }, 120_000);

  it('a busy callee: the host hears the error tone, nobody joins, the host stays', async () => {
    let scene: Scene | undefined;
    const callee = runCallee(BUSY_CALLEE);
    try {
      scene = await startScene(server, media, { serverPort: PORTS.sip, sipPort: 25735, sinkBase: 26450, mediaBase: 26960 }, [
        { name: 'hugh', role: 'host', presses: [[3000, '*815551234#']] },
      ]);
      const { sinks, runs } = scene;
      await waitFor(() => meetingNow(server)?.participants.length === 1, 20_000, 'hugh in meeting 1000', runs);
      const joinedAt = Date.now();
      const busy = await callee.done;
      expect(busy.code, busy.output).toBe(0);
      await waitFor(() => toneHeard(sinks[0]!, ERROR_TONE_HZ, joinedAt), 20_000, 'the error tone after the busy', runs);
      await sleep(1000);
      expect(meetingNow(server)!.participants).toHaveLength(1);
      await endScene(server, scene);
    } finally {
      cleanupScene(scene);
      callee.process.kill();
    }
  }, 120_000);
});

describe('*8 when the meeting ends while it rings', () => {
  it('the invitation is cancelled and nobody is left in a meeting', async () => {
    let scene: Scene | undefined;
    const calleeSink = await RtpSink.open(CALLEE_SINK_PORT);
    const callee = runCallee(RINGING_CALLEE);
    try {
      scene = await startScene(server, media, { serverPort: PORTS.sip, sipPort: 25737, sinkBase: 26454, mediaBase: 26970 }, [
        { name: 'hedda', role: 'host', presses: [[2000, '*815551234#']] },
      ]);
      const { runs } = scene;
      await waitFor(() => meetingNow(server)?.participants.length === 1, 20_000, 'hedda in meeting 1000', runs);
      const hedda = meetingNow(server)!.participants[0]!;
      // "Please hold while we try": the invitation is ringing.
      await waitFor(() => hedda.leg.playbackId !== undefined, 20_000, 'the hold prompt while it rings', runs);
      // Her scenario pauses after each INFO: let it reach its BYE wait before the meeting ends.
      await sleep(1000);
      await endScene(server, scene);
      // The callee's phone stops ringing: CANCEL, 487, ACK; sipp ends there.
      const result = await callee.done;
      expect(result.code, result.output).toBe(0);
      await waitFor(() => server.app.mediaEngine.stats().legs === 0, 5_000, 'every media leg closed');
      expect(meetingNow(server)).toBeUndefined();
    } finally {
      cleanupScene(scene);
      callee.process.kill();
      calleeSink.close();
    }
  }, 120_000);
});

/** Whether a 200 ms window of `frequency` sounded in what the sink heard since `since`. */
function toneHeard(sink: RtpSink, frequency: number, since: number): boolean {
  const samples = sink.samplesSince(since);
  for (let start = 0; start + 1600 <= samples.length; start += 800) {
    if (level(samples.subarray(start, start + 1600), frequency) > 2000) return true;
  }
  return false;
}
