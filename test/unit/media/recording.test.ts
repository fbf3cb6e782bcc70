import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { MediaError } from '../../../src/media/MediaErrors.js';
import type { RecordingDoneEvent } from '../../../src/media/MediaTypes.js';
import { dbfs, toneAmplitude } from '../../support/audio.js';
import { sleep, waitFor } from '../../support/wait.js';
import { useMediaFixture } from './fixture.js';

const { startEngine, legWithPeer } = useMediaFixture();
const PORTS = { rtpPortMin: 29400, rtpPortMax: 29499 };

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'rec-'));
  dirs.push(d);
  return d;
}

interface Wav {
  rate: number;
  channels: number;
  bits: number;
  samples: Int16Array;
}

/** Reads a canonical 44-byte-header PCM WAV, checking its sizes agree with the file. */
async function readWav(path: string): Promise<Wav> {
  const b = await readFile(path);
  expect(b.toString('latin1', 0, 4)).toBe('RIFF');
  expect(b.toString('latin1', 8, 16)).toBe('WAVEfmt ');
  expect(b.readUInt32LE(4)).toBe(b.length - 8);
  expect(b.toString('latin1', 36, 40)).toBe('data');
  const dataBytes = b.readUInt32LE(40);
  expect(dataBytes).toBe(b.length - 44);
  const samples = new Int16Array(dataBytes / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = b.readInt16LE(44 + i * 2);
  return { rate: b.readUInt32LE(24), channels: b.readUInt16LE(22), bits: b.readUInt16LE(34), samples };
}

function levelDb(amplitude: number, reference: number): number {
  return 20 * Math.log10(amplitude / reference);
}

describe('meeting recorder', () => {
  it('writes the mix and one aligned track per speaking leg, started and stopped at run time', async () => {
    const engine = await startEngine(PORTS);
    const room = engine.createRoom();
    const a = await legWithPeer(engine, 'rec-a');
    const b = await legWithPeer(engine, 'rec-b');
    const c = await legWithPeer(engine, 'rec-c'); // listens only: no track
    a.leg.join(room);
    b.leg.join(room);
    c.leg.join(room, { speak: false, hear: true });
    a.peer.startTone(1000, dbfs(-20));
    b.peer.startTone(500, dbfs(-26));
    await sleep(500);

    const dir = await tempDir();
    const mixFile = join(dir, 'mix.wav');
    const recording = room.startRecording({ mixFile, trackDirectory: dir });
    const done: RecordingDoneEvent[] = [];
    recording.on('recordingDone', (e) => done.push(e));
    await sleep(2000);
    recording.stop();
    recording.stop(); // idempotent
    await waitFor(() => done.length === 1, 5000, 'recordingDone');
    const ev = done[0]!;
    expect(ev.mixFile).toBe(mixFile);
    expect(ev.framesDropped).toBe(0);
    // Stopped after ~2 s (the stop command lands on the next ticks).
    expect(ev.durationMs).toBeGreaterThanOrEqual(1900);
    expect(ev.durationMs).toBeLessThan(3000);
    expect(ev.tracks.map((t) => t.callId).sort()).toEqual(['rec-a', 'rec-b']);

    const mix = await readWav(mixFile);
    expect([mix.rate, mix.channels, mix.bits]).toEqual([16000, 1, 16]);
    expect(mix.samples.length).toBe((ev.durationMs * 16000) / 1000);
    const middle = (w: Wav): Int16Array => w.samples.subarray(8000, 24000); // 0.5 s .. 1.5 s
    expect(Math.abs(levelDb(toneAmplitude(middle(mix), 1000, 16000), dbfs(-20)))).toBeLessThan(1);
    expect(Math.abs(levelDb(toneAmplitude(middle(mix), 500, 16000), dbfs(-26)))).toBeLessThan(1);

    for (const t of ev.tracks) {
      const w = await readWav(t.file);
      expect(w.samples.length).toBe(mix.samples.length);
      const [mine, other] = t.callId === 'rec-a' ? [1000, 500] : [500, 1000];
      const level = t.callId === 'rec-a' ? -20 : -26;
      expect(Math.abs(levelDb(toneAmplitude(middle(w), mine, 16000), dbfs(level)))).toBeLessThan(1);
      expect(levelDb(toneAmplitude(middle(w), other, 16000), dbfs(level))).toBeLessThan(-40);
    }
  });

  it('records at 8 kHz on request, and ends with the room', async () => {
    const engine = await startEngine(PORTS);
    const room = engine.createRoom();
    const a = await legWithPeer(engine, 'rec-8k');
    a.leg.join(room);
    a.peer.startTone(700, dbfs(-18));
    const dir = await tempDir();
    const recording = room.startRecording({ mixFile: join(dir, 'm.wav'), sampleRate: 8000 });
    const done: RecordingDoneEvent[] = [];
    recording.on('recordingDone', (e) => done.push(e));
    await sleep(1200);
    room.close();
    await waitFor(() => done.length === 1, 5000, 'recordingDone after close');
    expect(recording.done).toBe(true);
    const w = await readWav(join(dir, 'm.wav'));
    expect(w.rate).toBe(8000);
    expect(w.samples.length).toBe((done[0]!.durationMs * 8000) / 1000);
    expect(done[0]!.tracks).toEqual([]);
    expect(Math.abs(levelDb(toneAmplitude(w.samples.subarray(4000, 8000), 700), dbfs(-18)))).toBeLessThan(1);
  });

  it('refuses bad paths and a second recording with clear errors', async () => {
    const engine = await startEngine(PORTS);
    const room = engine.createRoom();
    const dir = await tempDir();
    const code = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        expect(err).toBeInstanceOf(MediaError);
        return (err as MediaError).code;
      }
      return undefined;
    };
    expect(code(() => room.startRecording({ mixFile: join(dir, 'no', 'such', 'dir.wav') }))).toBe('EIO');
    expect(code(() => room.startRecording({ mixFile: join(dir, 'x.wav'), trackDirectory: join(dir, 'missing') }))).toBe('EIO');
    expect(code(() => room.startRecording({ mixFile: '' }))).toBe('EINVAL');
    expect(code(() => room.startRecording({ mixFile: join(dir, 'y.wav'), sampleRate: 44100 as 8000 }))).toBe('EINVAL');
    const first = room.startRecording({ mixFile: join(dir, 'ok.wav') });
    expect(code(() => room.startRecording({ mixFile: join(dir, 'again.wav') }))).toBe('EBUSY');
    const done: RecordingDoneEvent[] = [];
    first.on('recordingDone', (e) => done.push(e));
    first.stop();
    await waitFor(() => done.length === 1, 5000, 'recordingDone');
    // Once stopped, the room can be recorded again.
    const second = room.startRecording({ mixFile: join(dir, 'again.wav') });
    second.stop();
  });
});
