/**
 * Codec negotiation end to end with real phones: Debian's baresip offering
 * G.722 or Opus and sipp offering G.711, in one meeting over real SIP and
 * RTP on 127.0.0.1. Each must hear the other's tone at its frequency and
 * level.
 */
import { describe, expect, it } from 'vitest';
import { toneAmplitude } from '../support/audio.js';
import { Baresip } from '../support/baresip.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller } from '../support/sipp.js';
import { useServerWithCallers } from '../support/serverWithCallers.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 17060, http: 17061, rtpMin: 17200, rtpMax: 17399 };
/** sipp's tone (CallerMedia.tone) and baresip's (Baresip toneHz) have amplitude 8000. */
const SIPP_TONE = 8000;

const suite = useServerWithCallers(PORTS);

function db(amplitude: number, reference: number): number {
  return 20 * Math.log10(amplitude / reference);
}

interface PhoneCase {
  codecs: string[];
  toneRate: number;
  toneChannels?: number;
  expectCodec: string;
  ports: { sipp: number; sippMedia: number; sink: number; phoneSip: number; phoneRtp: number; phoneControl: number };
}

/**
 * A sipp PCMU caller (450 Hz) and a baresip caller (1050 Hz) with `codecs`
 * join meeting 1000 with access code 2222; each must hear the other's tone
 * at the level it was sent (±1 dB) and not its own.
 */
async function twoPhonesHearEachOther(c: PhoneCase): Promise<void> {
  const sink = await RtpSink.open(c.ports.sink);
  const sipp = runCaller(
    {
      dialed: '15550100',
      rtpPort: sink.port,
      steps: [
        { kind: 'pause', ms: 600 },
        { kind: 'pcap', path: suite.media.digits(`sipp-${c.expectCodec}`, '2222#') },
        { kind: 'pause', ms: 1500 },
        { kind: 'stream', path: suite.media.tone(`sipp-${c.expectCodec}`, 450) },
        { kind: 'pause', ms: 14000 },
        { kind: 'bye' },
      ],
    },
    { serverPort: PORTS.sip, sipPort: c.ports.sipp, mediaPort: c.ports.sippMedia },
  );
  let phone: Baresip | undefined;
  try {
    phone = await Baresip.start({
      sipPort: c.ports.phoneSip,
      rtpPortMin: c.ports.phoneRtp,
      controlPort: c.ports.phoneControl,
      codecs: c.codecs,
      toneHz: 1050,
      toneRate: c.toneRate,
      toneChannels: c.toneChannels ?? 1,
    });
    const bare = phone;
    bare.dial(`sip:15550100@127.0.0.1:${PORTS.sip}`);
    const conference = suite.server.app.conferenceManager;
    await waitFor(() => /CALL_ESTABLISHED/.test(bare.log), 10_000, 'baresip call up', [bare, sipp]);
    await sleep(800);
    await bare.sendDigits('2222#');
    await waitFor(() => conference.getMeeting(1000)?.participants.length === 2, 15_000, 'two participants in meeting 1000', [bare, sipp]);
    const codecs = conference.getMeeting(1000)!.participants.map((p) => p.leg.codec).sort();
    expect(codecs).toEqual([c.expectCodec, 'PCMU'].sort());

    await sleep(1500);
    const since = Date.now();
    await sleep(2500);
    const sippHeard = sink.samplesSince(since);
    const fromPhone = toneAmplitude(sippHeard, 1050);
    const ownEcho = toneAmplitude(sippHeard, 450);
    bare.hangup();
    await sleep(300);
    const heard = bare.heard();
    expect(heard, bare.log.slice(-3000)).toBeDefined();
    expect(heard!.rate).toBe(c.toneRate);
    // The last 2 s of what baresip decoded (the call ran until the hangup).
    const tail = heard!.samples.subarray(Math.max(0, heard!.samples.length - 2 * heard!.rate));
    const fromSipp = toneAmplitude(tail, 450, heard!.rate);
    const phoneEcho = toneAmplitude(tail, 1050, heard!.rate);
    const report = JSON.stringify({ fromPhone, ownEcho, fromSipp, phoneEcho, samples: heard!.samples.length });
    if (process.env.DEBUG_BARESIP) process.stderr.write(`${report}\n`);
    // sipp (PCMU) hears baresip's tone at the level baresip sent it (±1 dB), not its own.
    expect(Math.abs(db(fromPhone, SIPP_TONE)), report).toBeLessThan(1);
    expect(ownEcho, report).toBeLessThan(300);
    // baresip hears sipp's tone at the level sipp sent it (±1 dB), not its own.
    expect(Math.abs(db(fromSipp, SIPP_TONE)), report).toBeLessThan(1);
    expect(phoneEcho, report).toBeLessThan(300);
    const result = await sipp.done;
    expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
    await waitFor(() => conference.getMeeting(1000) === undefined, 5_000, 'meeting 1000 to end');
  } finally {
    if (process.env.DEBUG_BARESIP && phone) process.stderr.write(phone.log);
    sipp.process.kill();
    sink.close();
    await phone?.stop();
  }
}

describe('codecs with real phones', () => {
  it('a baresip G.722 caller and a sipp G.711 caller hear each other in one meeting', async () => {
    await twoPhonesHearEachOther({
      codecs: ['G722/16000/1', 'PCMU/8000/1'],
      toneRate: 16000,
      expectCodec: 'G722',
      ports: { sipp: 17100, sippMedia: 17410, sink: 17420, phoneSip: 17102, phoneRtp: 17500, phoneControl: 17105 },
    });
  }, 60_000);

  it('a baresip Opus caller and a sipp G.711 caller hear each other in one meeting', async () => {
    await twoPhonesHearEachOther({
      codecs: ['opus/48000/2', 'PCMU/8000/1'],
      toneRate: 48000,
      toneChannels: 2,
      expectCodec: 'opus',
      ports: { sipp: 17110, sippMedia: 17430, sink: 17440, phoneSip: 17112, phoneRtp: 17540, phoneControl: 17115 },
    });
  }, 60_000);
});
