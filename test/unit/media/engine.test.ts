import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { MediaEngine } from '../../../src/media/MediaEngine.js';
import {
  InvalidSoundError,
  MediaClosedError,
  MediaInvalidArgumentError,
  MediaPortsExhaustedError,
} from '../../../src/media/MediaErrors.js';
import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import type { MediaRoom } from '../../../src/media/MediaRoom.js';
import { alawToLinear } from '../../support/audio.js';
import { waitFor } from '../../support/wait.js';
import { PORTS, useMediaFixture } from './fixture.js';

const { startEngine, openPeer } = useMediaFixture();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'media-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function wav(samples: Int16Array, rate = 8000): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVEfmt ', 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 2, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

describe('sounds', () => {
  it('loads WAV files and rejects anything else with InvalidSoundError', async () => {
    const engine = await startEngine();
    const good = join(dir, 'good.wav');
    await writeFile(good, wav(new Int16Array(8000).fill(1000)));
    const s = engine.loadSound(good);
    expect(s.durationMs).toBe(1000);
    expect(s.source).toBe(good);
    expect((await engine.loadSoundAsync(good)).samples).toBe(8000);

    const wide = join(dir, 'wide.wav');
    await writeFile(wide, wav(new Int16Array(16000), 16000));
    expect(engine.loadSound(wide).durationMs).toBe(1000);

    const text = join(dir, 'not.wav');
    await writeFile(text, 'this is plainly not a RIFF file, just some text\n');
    expect(() => engine.loadSound(text)).toThrow(InvalidSoundError);
    await expect(engine.loadSoundAsync(text)).rejects.toBeInstanceOf(InvalidSoundError);

    const truncated = join(dir, 'truncated.wav');
    await writeFile(truncated, wav(new Int16Array(800)).subarray(0, 300));
    expect(() => engine.loadSound(truncated)).toThrow(InvalidSoundError);
    await expect(engine.loadSoundAsync(truncated)).rejects.toBeInstanceOf(InvalidSoundError);
    expect(() => engine.loadSound(join(dir, 'missing.wav'))).toThrow(InvalidSoundError);
    await expect(engine.loadSoundAsync(join(dir, 'missing.wav'))).rejects.toBeInstanceOf(InvalidSoundError);
    expect(() => engine.loadSound(dir)).toThrow(InvalidSoundError);
    await expect(engine.loadSoundAsync(dir)).rejects.toBeInstanceOf(InvalidSoundError);
  });

  it('validates tone specs', async () => {
    const engine = await startEngine();
    expect(engine.createToneSound({ frequencies: [350, 440], durationMs: 250 }).durationMs).toBe(250);
    expect(() => engine.createToneSound({ frequencies: [], durationMs: 100 })).toThrow(MediaInvalidArgumentError);
    expect(() => engine.createToneSound({ frequencies: [440], durationMs: 100, levelDbfs: 6 })).toThrow(MediaInvalidArgumentError);
    expect(() => engine.createToneSound({ frequencies: [440], durationMs: 0 })).toThrow(MediaInvalidArgumentError);
  });
});

describe('engine lifecycle', () => {
  it('allocates even ports and reports exhaustion clearly', async () => {
    const engine = await startEngine({ rtpPortMin: 31991, rtpPortMax: 31995 });
    const a = engine.createLeg({ callId: 'a', codec: 'PCMU', payloadType: 0 });
    const b = engine.createLeg({ callId: 'b', codec: 'PCMU', payloadType: 0 });
    expect([a.localPort, b.localPort].sort()).toEqual([31992, 31994]);
    expect(a.localAddress).toBe('127.0.0.1');
    expect(() => engine.createLeg({ callId: 'c', codec: 'PCMU', payloadType: 0 })).toThrow(MediaPortsExhaustedError);
    // The socket is closed once the mixer hands the leg back (next tick).
    const freed = a.localPort;
    a.close();
    let c: MediaLeg | undefined;
    await waitFor(() => {
      try {
        c = engine.createLeg({ callId: 'c', codec: 'PCMU', payloadType: 0 });
        return true;
      } catch (err) {
        if (!(err instanceof MediaPortsExhaustedError)) throw err;
        return false;
      }
    }, 10_000, 'port to be released');
    expect(c!.localPort).toBe(freed);
  });

  it('sends well-formed RTP from the lobby: marker first, +1 seq, +160 timestamp, negotiated PT', async () => {
    const engine = await startEngine();
    const peer = await openPeer();
    engine.createLeg({ callId: 'pcma', codec: 'PCMA', payloadType: 8, remote: { address: peer.address, port: peer.port } });
    await waitFor(() => peer.received.length >= 10, 10_000, '10 packets');
    const r = peer.received;
    expect(r[0]!.marker).toBe(true);
    for (let i = 1; i < 10; i++) {
      expect(r[i]!.marker).toBe(false);
      expect(r[i]!.payloadType).toBe(8);
      expect(r[i]!.ssrc).toBe(r[0]!.ssrc);
      expect((r[i]!.sequence - r[i - 1]!.sequence) & 0xffff).toBe(1);
      expect((r[i]!.timestamp - r[i - 1]!.timestamp) >>> 0).toBe(160);
      expect(r[i]!.payload.length).toBe(160);
      // A-law silence
      expect(Math.max(...Array.from(r[i]!.payload, (c) => Math.abs(alawToLinear(c))))).toBeLessThanOrEqual(8);
    }
  });

  it('throws MediaClosedError on closed objects and cascades close', async () => {
    const engine = await startEngine();
    const newLegs: MediaLeg[] = [];
    const newRooms: MediaRoom[] = [];
    engine.observer.on('newleg', (l) => newLegs.push(l));
    engine.observer.on('newroom', (r) => newRooms.push(r));
    const room = engine.createRoom();
    const a = engine.createLeg({ callId: 'a', codec: 'PCMU', payloadType: 0 });
    const b = engine.createLeg({ callId: 'b', codec: 'PCMU', payloadType: 0 });
    expect(newLegs).toEqual([a, b]);
    expect(newRooms).toEqual([room]);
    a.join(room);
    b.join(room, { speak: false, hear: true });
    expect(b.membership).toEqual({ speak: false, hear: true });
    const tone = engine.createToneSound({ frequencies: [440], durationMs: 100 });

    let aClosed = 0;
    a.on('close', () => aClosed++);
    a.close();
    a.close();
    expect(aClosed).toBe(1);
    expect(a.closed).toBe(true);
    expect(room.legs.has(a)).toBe(false);
    expect(() => a.play(tone)).toThrow(MediaClosedError);
    expect(() => a.stats()).toThrow(MediaClosedError);
    expect(() => a.setRemote({ address: '127.0.0.1', port: 4000 })).toThrow(MediaClosedError);

    // Room close returns legs to the lobby; they keep working.
    let roomClosed = 0;
    room.on('close', () => roomClosed++);
    room.close();
    expect(roomClosed).toBe(1);
    expect(b.room).toBeUndefined();
    expect(() => b.join(room)).toThrow(MediaClosedError);
    b.play(tone);
    expect(() => b.update({ speak: true })).toThrow(MediaInvalidArgumentError);

    let bClosed = 0;
    b.on('close', () => bClosed++);
    const room2 = engine.createRoom();
    b.join(room2);
    let room2Closed = 0;
    room2.on('close', () => room2Closed++);
    const e = engine;
    e.close();
    expect(bClosed).toBe(1);
    expect(room2Closed).toBe(1);
    expect(e.closed).toBe(true);
    expect(() => e.createLeg({ callId: 'x', codec: 'PCMU', payloadType: 0 })).toThrow(MediaClosedError);
    expect(() => e.createRoom()).toThrow(MediaClosedError);
    expect(() => e.stats()).toThrow(MediaClosedError);
    expect(() => b.play(tone)).toThrow(MediaClosedError);
    e.close();
  });

  it('rejects bad arguments with typed errors', async () => {
    expect(() => new MediaEngine({ bindAddress: '127.0.0.1', rtpPortMin: 5000, rtpPortMax: 4000 })).toThrow(MediaInvalidArgumentError);
    expect(() => new MediaEngine({ bindAddress: 'not-an-ip', ...PORTS })).toThrow(MediaInvalidArgumentError);
    const engine = await startEngine();
    expect(() => engine.createLeg({ callId: 'x', codec: 'G729' as never, payloadType: 18 })).toThrow(MediaInvalidArgumentError);
    expect(() => engine.createLeg({ callId: 'x', codec: 'PCMU', payloadType: 300 })).toThrow(MediaInvalidArgumentError);
    const leg = engine.createLeg({ callId: 'x', codec: 'PCMU', payloadType: 0 });
    expect(() => leg.setRemote({ address: 'nope', port: 4000 })).toThrow(MediaInvalidArgumentError);
    expect(() => leg.setRemote({ address: '127.0.0.1', port: 70000 })).toThrow(MediaInvalidArgumentError);
    expect(engine.stats().legs).toBe(1);
  });

  it('survives legs hopping between rooms on different workers', async () => {
    const engine = await startEngine({ workerThreads: 2 });
    const rooms = [engine.createRoom(), engine.createRoom(), engine.createRoom()];
    const peer = await openPeer();
    const leg = engine.createLeg({ callId: 'hop', codec: 'PCMU', payloadType: 0, remote: { address: peer.address, port: peer.port } });
    const tone = engine.createToneSound({ frequencies: [600], durationMs: 300 });
    let done = 0;
    leg.on('playbackDone', () => done++);
    // Queue joins faster than migrations complete; the last one wins.
    for (let i = 0; i < 20; i++) leg.join(rooms[i % 3]!);
    leg.play(tone);
    leg.update({ speak: false, hear: true });
    await waitFor(() => done === 1, 10_000, 'playback across migrations');
    expect(leg.room).toBe(rooms[19 % 3]);
    rooms[19 % 3]!.close();
    const before = peer.received.length;
    await waitFor(() => peer.received.length > before + 5, 10_000, 'packets after room close');
    leg.close();
    expect(engine.stats().legs).toBe(0);
  });
});
