/**
 * Roll call's names directory on a real file system: leftovers of an
 * earlier run are removed when it opens, each call gets its own directory,
 * and removing one leaves the others; a call's directory waits for the
 * engine to close the name recorder's files (or a deadline), and close()
 * at shutdown removes whatever is left. NameRecorder tells when its files
 * are closed: not before the engine's recordingDone.
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NameDirectory } from '../../../src/ivr/NameDirectory.js';
import { NameRecorder } from '../../../src/ivr/NameRecorder.js';
import { createRootLogger } from '../../../src/log.js';
import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import type { MediaRoom } from '../../../src/media/MediaRoom.js';
import type { Sound } from '../../../src/media/Sound.js';

const logger = createRootLogger('silent');
let dataDir: string | undefined;

afterEach(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

describe('NameDirectory', () => {
  it('creates <dataDir>/names and empties it of an earlier run’s files and directories', () => {
    dataDir = mkdtempSync(join(tmpdir(), 'names-'));
    mkdirSync(join(dataDir, 'names', 'call-old'), { recursive: true });
    writeFileSync(join(dataDir, 'names', 'call-old', 'name.wav'), 'x');
    writeFileSync(join(dataDir, 'names', 'stray.wav'), 'x');
    const names = NameDirectory.open(dataDir, logger);
    expect(names.root).toBe(join(dataDir, 'names'));
    expect(readdirSync(names.root)).toEqual([]);
    // A fresh data directory works too.
    const fresh = mkdtempSync(join(tmpdir(), 'names-fresh-'));
    expect(readdirSync(NameDirectory.open(fresh, logger).root)).toEqual([]);
    rmSync(fresh, { recursive: true, force: true });
  });

  it('gives each call its own directory and removes only that one', () => {
    dataDir = mkdtempSync(join(tmpdir(), 'names-'));
    const names = NameDirectory.open(dataDir, logger);
    const a = names.forCall();
    const b = names.forCall();
    expect(a).not.toBe(b);
    writeFileSync(join(a, 'name.wav'), 'x');
    names.remove(a);
    expect(existsSync(a)).toBe(false);
    expect(existsSync(b)).toBe(true);
    // Removing twice (the call ends after a failure) is harmless.
    expect(() => names.remove(a)).not.toThrow();
  });
});

/** Resolves after the pending promise callbacks have run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('NameDirectory removal after the files are closed', () => {
  it('keeps an ended call\'s directory until its files are reported closed', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'names-'));
    const names = NameDirectory.open(dataDir, logger);
    const a = names.forCall();
    writeFileSync(join(a, 'mix.wav'), 'x');
    let closed!: () => void;
    names.remove(a, new Promise<void>((resolve) => (closed = resolve)));
    await settle();
    expect(existsSync(a)).toBe(true);
    closed();
    await settle();
    expect(existsSync(a)).toBe(false);
  });

  it('removes it anyway after the deadline when the engine never reports the files closed', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'names-'));
    const names = NameDirectory.open(dataDir, logger, { filesClosedTimeoutMs: 30 });
    const a = names.forCall();
    names.remove(a, new Promise<void>(() => {}));
    expect(existsSync(a)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(existsSync(a)).toBe(false);
  });

  it('close() at shutdown removes the directories still waiting and any other left', () => {
    dataDir = mkdtempSync(join(tmpdir(), 'names-'));
    const names = NameDirectory.open(dataDir, logger);
    const waiting = names.forCall();
    const stray = names.forCall();
    names.remove(waiting, new Promise<void>(() => {}));
    names.close();
    expect(readdirSync(names.root)).toEqual([]);
    expect(existsSync(stray)).toBe(false);
  });
});

/** A leg that answers every play with the next playback id, and a room whose recording reports done only when told. */
function fakeMedia() {
  let nextPlayback = 0;
  const leg = Object.assign(new EventEmitter(), {
    id: 7,
    closed: false,
    room: undefined as unknown,
    play: () => ++nextPlayback,
    stopPlayback: () => undefined,
    join(room: unknown) {
      leg.room = room;
    },
    leave() {
      leg.room = undefined;
    },
  });
  const recording = Object.assign(new EventEmitter(), {
    done: false,
    stopped: false,
    stop() {
      recording.stopped = true;
    },
    finish() {
      recording.done = true;
      recording.emit('recordingDone', { mixFile: 'mix.wav', durationMs: 0, framesDropped: 0, tracks: [] });
    },
  });
  const room = { closed: false, close: () => (room.closed = true), startRecording: () => recording };
  const recorder = new NameRecorder({
    leg: leg as unknown as MediaLeg,
    createRoom: () => room as unknown as MediaRoom,
    directory: '/nonexistent',
    prompts: () => [] as Sound[],
    loadSound: () => ({ durationMs: 0 }) as Sound,
    logger,
  });
  const promptDone = (playbackId: number) => leg.emit('playbackDone', { playbackId, interrupted: false });
  return { recorder, recording, promptDone };
}

describe('NameRecorder.filesClosed', () => {
  it('waits for the engine\'s recordingDone when the call ends mid-recording', async () => {
    const { recorder, recording, promptDone } = fakeMedia();
    recorder.start(() => undefined);
    promptDone(1); // "say your name"
    promptDone(2); // beep: recording now
    let closed = false;
    void recorder.filesClosed().then(() => (closed = true));
    recorder.dispose();
    expect(recording.stopped).toBe(true);
    await settle();
    expect(closed).toBe(false);
    recording.finish();
    await settle();
    expect(closed).toBe(true);
  });

  it('resolves at once when the call ends before any recording', async () => {
    const { recorder } = fakeMedia();
    recorder.start(() => undefined);
    recorder.dispose();
    let closed = false;
    void recorder.filesClosed().then(() => (closed = true));
    await settle();
    expect(closed).toBe(true);
  });
});
