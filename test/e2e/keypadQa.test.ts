/**
 * Q&A end to end: a host starts Q&A with *97, two participants raise their
 * hands with *5 (bob first, then ann), and the host takes them with *98.
 * What each sipp caller hears is decoded from its RTP: a participant's
 * tone reaches nobody until the host takes them, and in queue order.
 */
import { describe, expect, it } from 'vitest';
import { useServerWithCallers } from '../support/serverWithCallers.js';
import { waitFor } from '../support/wait.js';
import {
  cleanupScene,
  endScene,
  HEARD,
  level,
  listen,
  meetingNow,
  NOT_HEARD,
  promptsDone,
  startScene,
  type Scene,
} from './keypadScene.js';

const PORTS = { sip: 25700, http: 25799, rtpMin: 26000, rtpMax: 26399 };

const suite = useServerWithCallers(PORTS);

describe('Q&A end to end', () => {
  it('mutes participants, takes raised hands in queue order with *98, and *97 gives everyone back their audio', async () => {
    const [H, A, B] = [500, 700, 1700];
    let scene: Scene | undefined;
    try {
      scene = await startScene(suite.server, suite.media, { serverPort: PORTS.sip, sipPort: 25710, sinkBase: 26400, mediaBase: 26600 }, [
        { name: 'hope', role: 'host', frequency: H, presses: [[5000, '*97'], [14_000, '*98'], [9000, '*98'], [9000, '*97']] },
        { name: 'ann', role: 'participant', frequency: A, presses: [[11_000, '*5']] },
        { name: 'bob', role: 'participant', frequency: B, presses: [[8500, '*5']] },
      ]);
      const { sinks, participant, runs } = scene;
      const qa = () => meetingNow(suite.server)!.qa;
      await waitFor(() => meetingNow(suite.server)?.participants.length === 3, 20_000, 'three callers in meeting 1000', runs);
      let heard = await listen(sinks);
      expect(level(heard[0]!, A), 'hope hears ann before Q&A').toBeGreaterThan(HEARD);

      await waitFor(() => qa().active, 30_000, '*97 to start Q&A', runs);
      expect([participant(0).muted, participant(1).muted, participant(2).muted]).toEqual([false, true, true]);
      await waitFor(() => qa().queue.length === 2, 30_000, 'ann and bob to raise their hands', runs);
      expect(qa().queue.map((p) => p.id), 'bob raised first').toEqual([participant(2).id, participant(1).id]);
      await promptsDone(suite.server);
      heard = await listen(sinks);
      let report = JSON.stringify(heard.map((s) => [H, A, B].map((f) => level(s, f))));
      expect(qa().questioner, 'nobody taken yet').toBeUndefined();
      expect(level(heard[0]!, A), report).toBeLessThan(NOT_HEARD); // a raised hand is not heard
      expect(level(heard[0]!, B), report).toBeLessThan(NOT_HEARD);
      expect(level(heard[1]!, B), report).toBeLessThan(NOT_HEARD);
      expect(level(heard[2]!, A), report).toBeLessThan(NOT_HEARD);
      expect(level(heard[1]!, H), report).toBeGreaterThan(HEARD); // the host still is

      await waitFor(() => qa().questioner?.id === participant(2).id, 30_000, '*98 to take bob', runs);
      await promptsDone(suite.server);
      heard = await listen(sinks);
      report = JSON.stringify(heard.map((s) => [H, A, B].map((f) => level(s, f))));
      expect(qa().questioner?.id, 'still bob').toBe(participant(2).id);
      expect(level(heard[0]!, B), report).toBeGreaterThan(HEARD); // hope hears bob
      expect(level(heard[1]!, B), report).toBeGreaterThan(HEARD); // ann hears bob
      expect(level(heard[0]!, A), report).toBeLessThan(NOT_HEARD); // ann still waits
      expect(level(heard[2]!, A), report).toBeLessThan(NOT_HEARD);

      await waitFor(() => qa().questioner?.id === participant(1).id, 30_000, 'the second *98 to take ann', runs);
      expect(participant(2).muted, 'bob is muted again').toBe(true);
      await promptsDone(suite.server);
      heard = await listen(sinks);
      report = JSON.stringify(heard.map((s) => [H, A, B].map((f) => level(s, f))));
      expect(qa().questioner?.id, 'still ann').toBe(participant(1).id);
      expect(level(heard[0]!, A), report).toBeGreaterThan(HEARD); // hope hears ann
      expect(level(heard[2]!, A), report).toBeGreaterThan(HEARD); // bob hears ann
      expect(level(heard[0]!, B), report).toBeLessThan(NOT_HEARD); // bob no longer heard
      expect(level(heard[1]!, B), report).toBeLessThan(NOT_HEARD);

      await waitFor(() => !qa().active, 30_000, 'the second *97 to stop Q&A', runs);
      await promptsDone(suite.server);
      heard = await listen(sinks);
      expect(level(heard[0]!, A), 'hope hears ann after Q&A').toBeGreaterThan(HEARD);
      expect(level(heard[0]!, B), 'hope hears bob after Q&A').toBeGreaterThan(HEARD);
      await endScene(suite.server, scene);
    } finally {
      cleanupScene(scene);
    }
  }, 120_000);
});
