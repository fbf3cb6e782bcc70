/**
 * The leg's codec follows SIP negotiation after the first answer: a
 * delayed-offer caller answering our offer (G.722, opus, PCMU, PCMA, CN,
 * telephone-event) with PCMA in its ACK, and a caller whose re-INVITE moves
 * it from PCMU to PCMA, both hear the room in the new codec at the right
 * frequency and level. Real SIP (sipp) and RTP on 127.0.0.1.
 */
import { describe, expect, it } from 'vitest';
import { toneAmplitude } from '../support/audio.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller } from '../support/sipp.js';
import { useServerWithCallers } from '../support/serverWithCallers.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 17062, http: 17063, rtpMin: 17600, rtpMax: 17699 };
/** CallerMedia's tones have amplitude 8000. */
const TONE = 8000;
const PCMA: Array<[number, string]> = [
  [8, 'PCMA/8000'],
  [101, 'telephone-event/8000'],
];

const suite = useServerWithCallers(PORTS);

function db(amplitude: number): number {
  return 20 * Math.log10(amplitude / TONE);
}

describe('codec changes after the first answer', () => {
  it('a delayed offer answered with PCMA and a re-INVITE to PCMA switch the legs; both hear the talker in PCMA', async () => {
    const talkerSink = await RtpSink.open(17720);
    const delayedSink = await RtpSink.open(17722);
    const movingSink = await RtpSink.open(17724);
    const talker = runCaller(
      {
        dialed: '15550100',
        rtpPort: talkerSink.port,
        steps: [
          { kind: 'pause', ms: 600 },
          { kind: 'pcap', path: suite.media.digits('talker', '2222#') },
          { kind: 'pause', ms: 1500 },
          { kind: 'stream', path: suite.media.tone('talker', 450) },
          { kind: 'pause', ms: 16000 },
          { kind: 'bye' },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 17120, mediaPort: 17730 },
    );
    // Listeners (3333): they only listen, so sipp's PCMU-only stream never matters.
    const delayed = runCaller(
      {
        dialed: '15550100',
        rtpPort: delayedSink.port,
        codecs: PCMA,
        delayedOffer: {},
        // Our 200's offer lists every codec we run, G.722 first, and CN.
        answerMatches: 'm=audio [0-9]+ RTP/AVP 9 111 0 8 13 101',
        steps: [
          { kind: 'pause', ms: 600 },
          { kind: 'pcap', path: suite.media.digits('delayed', '3333#') },
          { kind: 'pause', ms: 17000 },
          { kind: 'bye' },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 17121, mediaPort: 17740 },
    );
    const moving = runCaller(
      {
        dialed: '15550100',
        rtpPort: movingSink.port,
        codecs: [
          [0, 'PCMU/8000'],
          [101, 'telephone-event/8000'],
        ],
        steps: [
          { kind: 'pause', ms: 600 },
          { kind: 'pcap', path: suite.media.digits('moving', '3333#') },
          { kind: 'pause', ms: 6000 },
          { kind: 'reinvite', rtpPort: movingSink.port, direction: 'sendrecv', codecs: PCMA },
          { kind: 'pause', ms: 11000 },
          { kind: 'bye' },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 17122, mediaPort: 17750 },
    );
    const runs = [talker, delayed, moving];
    try {
      const conference = suite.server.app.conferenceManager;
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 3, 15_000, 'three participants in meeting 1000', runs);
      const legOf = (caller: string): string | undefined =>
        conference.getMeeting(1000)?.participants.find((p) => p.leg.remote?.port === Number(caller))?.leg.codec;
      expect(legOf(String(delayedSink.port))).toBe('PCMA');
      expect(legOf(String(movingSink.port))).toBe('PCMU');
      // After the re-INVITE (6.6 s into the call).
      await waitFor(() => legOf(String(movingSink.port)) === 'PCMA', 15_000, 're-INVITE to PCMA followed', runs);
      await sleep(1500);
      const since = Date.now();
      await sleep(2000);
      expect(delayedSink.payloadTypesSince(since)).toEqual([8]);
      expect(movingSink.payloadTypesSince(since)).toEqual([8]);
      const heardDelayed = db(toneAmplitude(delayedSink.samplesSince(since), 450));
      const heardMoving = db(toneAmplitude(movingSink.samplesSince(since), 450));
      const report = JSON.stringify({ heardDelayed, heardMoving });
      expect(Math.abs(heardDelayed), report).toBeLessThan(1);
      expect(Math.abs(heardMoving), report).toBeLessThan(1);
      const results = await Promise.all(runs.map((run) => run.done));
      for (const result of results) expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of [talkerSink, delayedSink, movingSink]) sink.close();
    }
  }, 60_000);
});
