/**
 * Seed 004's keypad attributes end to end: the DID group is given, through
 * the control API, `conference_mute_dtmf: hp` (participants may mute
 * others) and `call_mute_dtmf_binding: *11` (self mute moves off *1). Then
 * sipp callers use the keys: a participant's *91 mutes the room but the
 * host, the old *1 gets the error tone, *11 unmutes, and *3 says goodbye
 * and hangs up through the call flow.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rms } from '../support/audio.js';
import { CallerMedia } from '../support/callerMedia.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { sleep, waitFor } from '../support/wait.js';
import { apiClient } from './apiClient.js';
import { cleanupScene, endScene, HEARD, level, listen, meetingNow, NOT_HEARD, promptsDone, startScene, type Scene } from './keypadScene.js';

const PORTS = { sip: 25750, http: 25797, rtpMin: 26500, rtpMax: 26599 };
const ADMIN: [string, string] = ['admin', 'keypad bindings test'];
/** The error tone (PromptLibrary TONES.error): 300 Hz. */
const ERROR_TONE_HZ = 300;

let server: TestServer;
let media: CallerMedia;

beforeAll(async () => {
  media = new CallerMedia();
  server = await startTestServer(PORTS, undefined, { ADMIN_PASSWORD: ADMIN[1] });
});

afterAll(async () => {
  await server?.stop();
  media?.remove();
});

describe('keypad attributes end to end', () => {
  it('a DID group’s role string and binding change who may use which key', async () => {
    const api = apiClient(PORTS.http, ADMIN);
    const groups = await api('GET', '/conference/v1/didGroups');
    expect(groups.status, groups.text).toBe(200);
    const demo = (groups.json.didGroups as Array<{ id: number; name: string }>).find((g) => g.name === 'demo')!;
    const put = await api('PUT', `/conference/v1/didGroups/${demo.id}`, {
      body: { attributes: [{ name: 'conference_mute_dtmf', value: 'hp' }, { name: 'call_mute_dtmf_binding', value: '*11' }] },
    });
    expect(put.status, put.text).toBe(200);

    const [H, P1, P2] = [500, 700, 1700];
    let scene: Scene | undefined;
    try {
      scene = await startScene(server, media, { serverPort: PORTS.sip, sipPort: 25751, sinkBase: 26470, mediaBase: 26640 }, [
        { name: 'hank', role: 'host', frequency: H },
        { name: 'pia', role: 'participant', frequency: P1, presses: [[6000, '*91']] },
        { name: 'pete', role: 'participant', frequency: P2, presses: [[10_000, '*1'], [5000, '*11'], [5000, '*3']] },
      ]);
      const { sinks, participant, runs } = scene;
      await waitFor(() => meetingNow(server)?.participants.length === 3, 20_000, 'three callers in meeting 1000', runs);
      const pete = participant(2);

      await waitFor(() => pete.muted && participant(1).muted, 30_000, 'pia’s *91 to mute the participants', runs);
      expect(participant(0).muted).toBe(false);
      await promptsDone(server);
      let heard = await listen(sinks);
      let report = JSON.stringify(heard.map((s) => [H, P1, P2].map((f) => level(s, f))));
      expect(level(heard[0]!, P1), report).toBeLessThan(NOT_HEARD);
      expect(level(heard[0]!, P2), report).toBeLessThan(NOT_HEARD);
      expect(level(heard[2]!, H), report).toBeGreaterThan(HEARD);

      // *1 is no longer self mute: after the inter-digit pause (*1 starts *11) it is the error tone.
      const since = Date.now();
      await waitFor(() => toneHeard(sinks[2]!, ERROR_TONE_HZ, since), 30_000, 'the error tone for the old *1', runs);
      expect(pete.muted).toBe(true);

      await waitFor(() => !pete.muted, 30_000, 'pete’s *11 to unmute him', runs);
      await promptsDone(server);
      heard = await listen(sinks);
      report = JSON.stringify(heard.map((s) => [H, P1, P2].map((f) => level(s, f))));
      expect(level(heard[0]!, P2), report).toBeGreaterThan(HEARD); // hank hears pete again
      expect(level(heard[0]!, P1), report).toBeLessThan(NOT_HEARD); // pia is still muted

      // *3: goodbye, then the bridge hangs up; pete's script ends with that BYE.
      const exitAt = Date.now();
      const peteDone = await runs[2]!.done;
      expect(peteDone.code, peteDone.errors + peteDone.output.slice(-2000)).toBe(0);
      expect(rms(sinks[2]!.samplesSince(exitAt - 500)), 'pete heard the goodbye').toBeGreaterThan(300);
      await waitFor(() => meetingNow(server)?.participants.length === 2, 5_000, 'pete to leave the meeting');
      await sleep(200);
      await endScene(server, scene);
    } finally {
      cleanupScene(scene);
    }
  }, 120_000);
});

/** Whether a 200 ms window of `frequency` sounded in what the sink heard since `since`. */
function toneHeard(sink: { samplesSince(since: number): Int16Array }, frequency: number, since: number): boolean {
  const samples = sink.samplesSince(since);
  for (let start = 0; start + 1600 <= samples.length; start += 800) {
    if (level(samples.subarray(start, start + 1600), frequency) > 2000) return true;
  }
  return false;
}
