import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { MediaLeg } from '../media/MediaLeg.js';
import type { MediaRecording } from '../media/MediaRecording.js';
import type { MediaRoom } from '../media/MediaRoom.js';
import type { PlaybackDoneEvent, RecordingDoneEvent } from '../media/MediaTypes.js';
import type { Sound } from '../media/Sound.js';
import type { PromptName } from './AccessCodeFlow.js';
import type { NameRecordingAction, NameRecordingInput, NameRecordingLimits, NameTimer } from './NameRecordingFlow.js';
import { DEFAULT_NAME_LIMITS, NameRecordingFlow } from './NameRecordingFlow.js';

export interface NameRecorderOptions {
  leg: MediaLeg;
  /** A private media room: the leg alone in it, so its track is its voice only. */
  createRoom: () => MediaRoom;
  /** This call's own directory (NameDirectory.forCall). */
  directory: string;
  /** The dialogue's prompts in the caller's language. */
  prompts: (names: PromptName[]) => Sound[];
  loadSound: (path: string) => Sound;
  logger: Logger;
  limits?: NameRecordingLimits;
}

/** Kept before the detected speech and after its end, so no syllable is cut. */
const LEAD_MS = 300;
const TAIL_MS = 150;
const SAMPLE_RATE = 8000;
const WAV_HEADER_BYTES = 44;
/**
 * The whole dialogue (prompt, beep, the longest name, closing the file)
 * takes well under this; past it an event the flow waits for (a prompt's
 * end, recordingDone) was lost, and the caller joins without a name rather
 * than waiting outside the meeting.
 */
const WATCHDOG_MS = 30_000;

/**
 * Records a caller's name for roll call, driving `NameRecordingFlow` over
 * their media leg. The engine has no per-leg recorder, so the leg sits
 * alone in a private room while that room is recorded with per-leg tracks:
 * a track is the leg's decoded audio as received (no talker gate, no
 * limiter), where the room's mix would only carry what the talker detector
 * let in. The name is then cut to the detected speech (the talking events'
 * times) and loaded as a Sound, which outlives the file.
 */
export class NameRecorder {
  private readonly flow: NameRecordingFlow;
  private readonly timers = new Map<NameTimer, NodeJS.Timeout>();
  private room: MediaRoom | undefined;
  private recording: MediaRecording | undefined;
  private track: string | undefined;
  private playbackId: number | undefined;
  private recordingStartedAt = 0;
  private speechStartedAt: number | undefined;
  private speechStoppedAt: number | undefined;
  private done: ((name: Sound | undefined) => void) | undefined;
  private disposed = false;
  private watchdog: NodeJS.Timeout | undefined;
  private readonly filesClosedPromise: Promise<void>;
  private markFilesClosed: () => void = () => {};

  private readonly onPlaybackDone = (event: PlaybackDoneEvent): void => {
    if (event.playbackId !== this.playbackId) return;
    this.playbackId = undefined;
    this.feed({ type: 'promptDone' });
  };
  private readonly onTalkingStarted = (): void => {
    if (this.recording === undefined) return;
    this.speechStartedAt ??= Date.now();
    this.speechStoppedAt = undefined;
    this.feed({ type: 'talkingStarted' });
  };
  private readonly onTalkingStopped = (): void => {
    if (this.recording === undefined) return;
    this.speechStoppedAt = Date.now();
    this.feed({ type: 'talkingStopped' });
  };

  constructor(private readonly options: NameRecorderOptions) {
    this.flow = new NameRecordingFlow(options.limits ?? DEFAULT_NAME_LIMITS);
    this.filesClosedPromise = new Promise<void>((resolve) => (this.markFilesClosed = resolve));
  }

  /**
   * Resolves once the recorder is finished or disposed and the media engine
   * has closed every file it wrote in the call's directory (recordingDone),
   * so the directory can go. It does not resolve while a recording is still
   * open, e.g. when the engine shuts down without reporting it.
   */
  filesClosed(): Promise<void> {
    return this.filesClosedPromise;
  }

  /** Runs the dialogue; `done` is called once, with the name or undefined (silent caller, `#`, a failure). */
  start(done: (name: Sound | undefined) => void): void {
    this.done = done;
    const { leg } = this.options;
    leg.on('playbackDone', this.onPlaybackDone);
    leg.on('talkingStarted', this.onTalkingStarted);
    leg.on('talkingStopped', this.onTalkingStopped);
    this.watchdog = setTimeout(() => {
      this.options.logger.warn('name recording did not finish, joining without a name');
      this.finish(undefined);
    }, WATCHDOG_MS);
    this.feed({ type: 'start' });
  }

  /** A key the caller pressed (RFC 4733, in-band or SIP INFO). */
  digit(digit: string): void {
    this.feed({ type: 'digit', digit });
  }

  /** The call ended mid-way: everything stops, `done` is not called. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.done = undefined;
    this.cleanUp();
  }

  private feed(input: NameRecordingInput): void {
    if (this.disposed) return;
    try {
      for (const action of this.flow.handle(input)) this.perform(action);
    } catch (err) {
      // A media failure costs the caller their name, never their call.
      this.options.logger.error({ err }, 'name recording failed, joining without a name');
      this.finish(undefined);
    }
  }

  private perform(action: NameRecordingAction): void {
    const { leg } = this.options;
    switch (action.type) {
      case 'play':
        this.playbackId = leg.play(this.options.prompts(action.prompts), { interruptibleByDtmf: action.interruptible });
        return;
      case 'stopPrompt':
        this.playbackId = undefined;
        leg.stopPlayback();
        return;
      case 'startRecording':
        this.startRecording();
        return;
      case 'stopRecording':
        this.recording?.stop();
        return;
      case 'startTimer':
        this.cancelTimer(action.timer);
        this.timers.set(
          action.timer,
          setTimeout(() => {
            this.timers.delete(action.timer);
            this.feed({ type: 'timeout', timer: action.timer });
          }, action.ms),
        );
        return;
      case 'cancelTimer':
        this.cancelTimer(action.timer);
        return;
      case 'finished':
        this.finish(action.spoke ? this.loadName() : undefined);
        return;
    }
  }

  private startRecording(): void {
    const room = this.options.createRoom();
    this.room = room;
    this.options.leg.join(room, { speak: true, hear: false });
    const recording = room.startRecording({ mixFile: join(this.options.directory, 'mix.wav'), trackDirectory: this.options.directory, sampleRate: SAMPLE_RATE });
    this.recording = recording;
    this.recordingStartedAt = Date.now();
    recording.on('error', (err) => this.options.logger.warn({ err }, 'name recording incomplete'));
    recording.once('recordingDone', (event: RecordingDoneEvent) => {
      this.track = event.tracks.find((t) => t.legId === this.options.leg.id)?.file ?? event.tracks[0]?.file;
      this.feed({ type: 'recordingDone' });
    });
  }

  /** The recorded name cut to the speech, loaded; undefined when there is nothing usable. */
  private loadName(): Sound | undefined {
    if (this.track === undefined) return undefined;
    const fromMs = Math.max(0, (this.speechStartedAt ?? this.recordingStartedAt) - this.recordingStartedAt - LEAD_MS);
    const toMs = this.speechStoppedAt === undefined ? Infinity : this.speechStoppedAt - this.recordingStartedAt + TAIL_MS;
    const path = join(this.options.directory, 'name.wav');
    const samples = trimWav(this.track, path, fromMs, toMs);
    if (samples === 0) return undefined;
    const name = this.options.loadSound(path);
    this.options.logger.info({ durationMs: name.durationMs }, 'caller name recorded');
    return name;
  }

  private finish(name: Sound | undefined): void {
    const done = this.done;
    this.done = undefined;
    this.cleanUp();
    done?.(name);
  }

  private cleanUp(): void {
    clearTimeout(this.watchdog);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    const { leg } = this.options;
    leg.off('playbackDone', this.onPlaybackDone);
    leg.off('talkingStarted', this.onTalkingStarted);
    leg.off('talkingStopped', this.onTalkingStopped);
    if (!leg.closed && leg.room === this.room && this.room !== undefined) leg.leave();
    const recording = this.recording;
    try {
      recording?.stop();
    } catch (err) {
      // The engine is closing: its files get closed with it.
      this.options.logger.debug({ err }, 'name recording not stopped');
    }
    if (this.room && !this.room.closed) this.room.close();
    this.room = undefined;
    // The engine closes the files on its own thread: the directory may go once it says so.
    if (recording === undefined || recording.done) this.markFilesClosed();
    else recording.once('recordingDone', () => this.markFilesClosed());
  }

  private cancelTimer(timer: NameTimer): void {
    const handle = this.timers.get(timer);
    if (handle) clearTimeout(handle);
    this.timers.delete(timer);
  }
}

/**
 * Copies the part of a 16-bit mono 8 kHz WAV (as the recorder writes it:
 * a 44-byte header) between `fromMs` and `toMs` into `out`. Returns the
 * samples written.
 */
function trimWav(source: string, out: string, fromMs: number, toMs: number): number {
  const file = readFileSync(source);
  const total = Math.max(0, Math.floor((file.length - WAV_HEADER_BYTES) / 2));
  const first = Math.min(total, Math.floor((fromMs * SAMPLE_RATE) / 1000));
  const last = Math.min(total, Number.isFinite(toMs) ? Math.ceil((toMs * SAMPLE_RATE) / 1000) : total);
  const count = Math.max(0, last - first);
  if (count === 0) return 0;
  const header = Buffer.from(file.subarray(0, WAV_HEADER_BYTES));
  header.writeUInt32LE(36 + count * 2, 4);
  header.writeUInt32LE(count * 2, 40);
  writeFileSync(out, Buffer.concat([header, file.subarray(WAV_HEADER_BYTES + first * 2, WAV_HEADER_BYTES + last * 2)]));
  return count;
}
