/**
 * RFC 4733 key presses from callers that stream a tone at the same time:
 * three sipp callers each stream a tone (rtp_stream) and replay their keys
 * from pcaps (play_pcap_audio, one SSRC per file); every leg must report
 * exactly the keys pressed, in order, once each, and the keys must not be
 * heard in the room (they never reach the mix). This pins down the
 * "garbled digits" once suspected here: on the wire sipp 3.6 sends them
 * cleanly; what does lose digits is starting a pcap while the previous one
 * still plays (sipp stops the first), which keypadScene refuses.
 */
import { describe, expect, it } from 'vitest';
import { useServerWithCallers } from '../support/serverWithCallers.js';
import { sleep, waitFor } from '../support/wait.js';
import { cleanupScene, endScene, HEARD, level, listen, meetingNow, startScene, type Scene, type SceneCaller } from './keypadScene.js';

const PORTS = { sip: 25760, http: 25796, rtpMin: 26900, rtpMax: 26939 };

const suite = useServerWithCallers(PORTS);

describe('RFC 4733 keys while streaming', () => {
  it('every caller’s keys arrive exactly once and in order, and the room still hears their tones', async () => {
    // Keys that are no command for these roles, so nothing changes while they are pressed
    // (a participant's *2 only says the count; # and digits outside a command are ignored).
    const callers: SceneCaller[] = [
      { name: 'hana', role: 'host', frequency: 500, dtmf: 'rfc4733', presses: [[3000, '*2'], [1500, '#0#']] },
      { name: 'abel', role: 'participant', frequency: 700, dtmf: 'rfc4733', presses: [[3500, '*2'], [1200, '123']] },
      { name: 'bea', role: 'participant', frequency: 1700, dtmf: 'rfc4733', presses: [[4000, '4#5*2']] },
    ];
    const expected = ['*2#0#', '*2123', '4#5*2'];
    let scene: Scene | undefined;
    try {
      scene = await startScene(suite.server, suite.media, { serverPort: PORTS.sip, sipPort: 25761, sinkBase: 26940, mediaBase: 26950 }, callers);
      const { runs, sinks, participant } = scene;
      await waitFor(() => meetingNow(suite.server)?.participants.length === 3, 20_000, 'three callers in meeting 1000', runs);
      const received = callers.map(() => '');
      callers.forEach((_, i) => participant(i).leg.on('dtmf', (event) => (received[i] += event.digit)));
      await waitFor(() => received.every((keys, i) => keys.length >= expected[i]!.length), 30_000, `the keys (so far ${JSON.stringify(received)})`, runs);
      await sleep(1000); // a repeated key would arrive by now
      expect(received).toEqual(expected);
      expect(callers.map((_, i) => participant(i).leg.stats().dtmfEvents)).toEqual(expected.map((keys) => '1111#'.length + keys.length));
      const heard = await listen(sinks);
      expect(level(heard[0]!, 700), 'hana hears abel').toBeGreaterThan(HEARD);
      expect(level(heard[1]!, 1700), 'abel hears bea').toBeGreaterThan(HEARD);
      await endScene(suite.server, scene);
    } finally {
      cleanupScene(scene);
    }
  }, 90_000);
});
