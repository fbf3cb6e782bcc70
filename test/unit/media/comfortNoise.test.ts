import { describe, expect, it } from 'vitest';

import { dbfs, rms, toneAmplitude } from '../../support/audio.js';
import { buildRtp } from '../../support/rtpPackets.js';
import { sleep, waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, legWithPeer } = useMediaFixture();
const PORTS = { rtpPortMin: 17900, rtpPortMax: 17999 };

describe('RFC 3389 comfort noise received', () => {
  it('CN packets from a phone using VAD are not garbage, keep the leg alive, and make it a non-talker heard as comfort noise until speech resumes', async () => {
    const engine = await startEngine({ ...PORTS, rtpTimeoutMs: 1000 });
    const room = engine.createRoom();
    const phone = await legWithPeer(engine, 'vad-phone');
    const listener = await legWithPeer(engine, 'listener');
    phone.leg.join(room);
    listener.leg.join(room);
    let timeouts = 0;
    phone.leg.on('rtpTimeout', () => timeouts++);

    phone.peer.startTone(500, dbfs(-20));
    await waitFor(() => phone.leg.talking, 5000, 'the phone to be talking');
    await sleep(600);
    // Heard (the ±1 dB level check is the mixer test's): this peer's
    // timer-driven packets slip past a tick now and then, and one concealed
    // frame in the 20 measured takes a few tenths of a dB.
    expect(toneAmplitude(listener.peer.lastSamples(20), 500)).toBeGreaterThan(dbfs(-23));

    // VAD: speech stops, a SID frame (level 50 = -50 dBov) every 200 ms.
    phone.peer.stopStream();
    await sleep(200);  // the last tone packets in flight are counted before
    const sent = phone.leg.stats().packetsReceived;
    for (let i = 0; i < 12; i++) {
      phone.peer.timestamp = (phone.peer.timestamp + (i === 0 ? 160 : 1600)) >>> 0;
      phone.peer.send(buildRtp({ payloadType: 13, sequence: phone.peer.sequence, timestamp: phone.peer.timestamp, ssrc: phone.peer.ssrc }, Buffer.from([50])));
      phone.peer.sequence = (phone.peer.sequence + 1) & 0xffff;
      await sleep(200);
    }
    const stats = phone.leg.stats();
    expect(stats.packetsReceived - sent).toBe(12);
    expect(stats.packetsUnknownPayload).toBe(0);
    expect(stats.packetsMalformed).toBe(0);
    // 2.4 s of CN only, with a 1 s RTP timeout: the leg is not dead.
    expect(timeouts).toBe(0);
    expect(phone.leg.talking).toBe(false);
    // The listener hears the phone's comfort noise at about the level it
    // named (RMS -50 dBov), and none of its last words.
    const during = listener.peer.lastSamples(20);
    expect(toneAmplitude(during, 500)).toBeLessThan(dbfs(-60));
    const noiseDb = 20 * Math.log10(rms(during) / 32767);
    expect(noiseDb).toBeGreaterThan(-54);
    expect(noiseDb).toBeLessThan(-46);

    // Speech resumes.
    phone.peer.startTone(500, dbfs(-20));
    await waitFor(() => phone.leg.talking, 5000, 'the phone to talk again');
    await sleep(600);
    expect(toneAmplitude(listener.peer.lastSamples(20), 500)).toBeGreaterThan(dbfs(-23));
  });
});
