/**
 * Loads the native media addon (`native/build/Release/media.node`) and types
 * its surface. The path is resolved from the package root (the nearest
 * directory above this file holding package.json), so it works from `src/`
 * under vitest/tsx and from `dist/src/` after tsc. `MEDIA_NATIVE_ADDON` may
 * point at another build.
 *
 * Internal to src/media: everything else goes through MediaEngine.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LegStats, MediaEngineStats } from './MediaTypes.js';

export interface NativeSound {
  readonly durationMs: number;
  readonly samples: number;
}

export interface NativeLegInfo {
  id: number;
  address: string;
  port: number;
  /** 0 with rtcp-mux. */
  rtcpPort: number;
}

/** What MediaEngineStats exposes (the addon also fills in that shape), and what only src/media reads. */
export interface NativeEngineStats extends MediaEngineStats {
  eventsDeferred: number;
  /** Tick lateness, 100 µs buckets; the last entry is the overflow bucket. */
  tickLatenessCounts: number[];
  /** Socket I/O of the mixer threads: batched through io_uring, or one system call per packet. */
  ioBackend: 'io_uring' | 'syscalls';
  /** Why not io_uring ('' when it is). */
  ioFallbackReason: string;
}

export type NativeEvent =
  | { type: 'dtmf'; legId: number; digit: string; source: 'rfc4733' | 'inband'; durationMs: number }
  | { type: 'playbackDone'; legId: number; roomId?: number; playbackId: number; interrupted: boolean }
  | { type: 'rtpTimeout'; legId: number }
  | { type: 'digitsSent'; legId: number; requestId: number; interrupted: boolean }
  | {
      type: 'recordingDone';
      legId: 0;
      recordingId: number;
      error?: string;
      durationMs: number;
      framesDropped: number;
      tracks: Array<{ legId: number; file: string }>;
    }
  | { type: 'talking'; legId: number; talking: boolean; energy: number };

export interface NativeEngineOptions {
  bindAddress: string;
  rtpPortMin: number;
  rtpPortMax: number;
  workerThreads: number;
  rtpTimeoutMs: number;
  maxTalkers: number;
  rtcpIntervalMs: number;
}

export interface NativeEngine {
  createLeg(options: { codec: string; payloadType: number; telephoneEventPayloadType?: number; rtcpMux?: boolean }): NativeLegInfo;
  setRemote(legId: number, address: string, port: number): void;
  setCodec(legId: number, codec: string, payloadType: number): void;
  play(legId: number, sounds: NativeSound[], interruptible: boolean, queue?: boolean): number;
  /** An announcement to the whole room (playbackDone carries roomId, legId 0). */
  playRoom(roomId: number, sounds: NativeSound[], queue: boolean): number;
  stopRoomPlayback(roomId: number): void;
  stopPlayback(legId: number): void;
  /** [] = heard by the room again. */
  setWhisper(legId: number, targetLegIds: number[]): void;
  /** RFC 4733 events for `digits`; returns the request id its digitsSent event carries. */
  sendDigits(legId: number, digits: string, durationMs: number, gapMs: number): number;
  join(legId: number, roomId: number, speak: boolean, hear: boolean): void;
  update(legId: number, speak: boolean, hear: boolean): void;
  leave(legId: number): void;
  closeLeg(legId: number): void;
  createRoom(maxTalkers?: number): number;
  setRoomMaxTalkers(roomId: number, maxTalkers: number): void;
  closeRoom(roomId: number): void;
  /** trackDirectory '' = no tracks. Opens the files now (EIO on a bad path); EBUSY if the room is being recorded. */
  startRecording(roomId: number, mixFile: string, trackDirectory: string, sampleRate: number): number;
  stopRecording(recordingId: number): void;
  setGain(legId: number, inDb: number, outDb: number): void;
  /** [] holds with silence. */
  hold(legId: number, music: NativeSound[]): void;
  unhold(legId: number): void;
  setSending(legId: number, sending: boolean): void;
  legStats(legId: number): LegStats;
  stats(): NativeEngineStats;
  /** Pending events from the mixer threads; [] once closed. */
  drainEvents(): NativeEvent[];
  close(): void;
}

export interface NativeAddon {
  /** `onWake` runs on the JS thread (thread-safe function) when events wait. */
  NativeEngine: new (options: NativeEngineOptions, onWake: () => void) => NativeEngine;
  loadSound(path: string): NativeSound;
  parseSound(wav: Buffer, name: string): NativeSound;
  createToneSound(frequencies: number[], durationMs: number, levelDbfs: number): NativeSound;
  readonly maxSoundFileBytes: number;
}

/** The nearest directory at or above `from` that contains package.json. */
export function findPackageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

export function nativeAddonPath(): string {
  return process.env.MEDIA_NATIVE_ADDON ?? join(findPackageRoot(), 'native', 'build', 'Release', 'media.node');
}

let addon: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (addon === undefined) {
    const path = nativeAddonPath();
    if (!existsSync(path)) {
      throw new Error(`media addon not built: ${path} is missing (run \`npm run build:native\`)`);
    }
    const require = createRequire(import.meta.url);
    addon = require(path) as NativeAddon;
  }
  return addon;
}
