/**
 * Roll call's "say your name" dialogue, as a pure state machine: fed the
 * caller's digits, prompt ends, talking events and timer expiries, it
 * answers with the actions its driver (`NameRecorder`) carries out. No
 * sockets, timers or media here.
 *
 * Caller-facing behaviour:
 * - "after the tone, say your name" (`vm-rec-name`), then a beep, then the
 *   recording; a key pressed during the prompt stops it (type-ahead) and
 *   goes straight to the beep, `#` skips the name altogether;
 * - the recording ends on `#`, on `silenceMs` of quiet after the caller has
 *   spoken, or after `maxMs` whatever happens;
 * - a caller who never spoke (or skipped) ends with `spoke: false`: they
 *   join without a name, and nothing is announced for them.
 */
import type { PromptName } from './AccessCodeFlow.js';

export const NAME_PROMPTS = {
  recordName: 'vm-rec-name',
  beep: 'beep',
} as const;

export interface NameRecordingLimits {
  /** The longest a name may last, from the beep. */
  maxMs: number;
  /** Quiet after speech that ends the recording (on top of the talker detector's own hangover). */
  silenceMs: number;
}

export const DEFAULT_NAME_LIMITS: NameRecordingLimits = { maxMs: 4000, silenceMs: 700 };

export type NameTimer = 'max' | 'silence';

export type NameRecordingInput =
  | { type: 'start' }
  | { type: 'digit'; digit: string }
  | { type: 'promptDone' }
  | { type: 'talkingStarted' }
  | { type: 'talkingStopped' }
  | { type: 'timeout'; timer: NameTimer }
  | { type: 'recordingDone' };

export type NameRecordingAction =
  | { type: 'play'; prompts: PromptName[]; interruptible: boolean }
  | { type: 'stopPrompt' }
  | { type: 'startRecording' }
  | { type: 'stopRecording' }
  | { type: 'startTimer'; timer: NameTimer; ms: number }
  | { type: 'cancelTimer'; timer: NameTimer }
  /** The dialogue is over; `spoke`: the recording holds speech worth announcing. */
  | { type: 'finished'; spoke: boolean };

export type NameRecordingState = 'idle' | 'prompt' | 'beep' | 'recording' | 'stopping' | 'done';

export class NameRecordingFlow {
  private stateValue: NameRecordingState = 'idle';
  private spoke = false;

  constructor(private readonly limits: NameRecordingLimits = DEFAULT_NAME_LIMITS) {}

  get state(): NameRecordingState {
    return this.stateValue;
  }

  handle(input: NameRecordingInput): NameRecordingAction[] {
    switch (this.stateValue) {
      case 'idle':
        if (input.type !== 'start') return [];
        this.stateValue = 'prompt';
        return [{ type: 'play', prompts: [NAME_PROMPTS.recordName], interruptible: true }];
      case 'prompt':
        if (input.type === 'digit') {
          if (input.digit === '#') return [{ type: 'stopPrompt' }, ...this.finish()];
          return [{ type: 'stopPrompt' }, ...this.beep()];
        }
        return input.type === 'promptDone' ? this.beep() : [];
      case 'beep':
        if (input.type === 'digit' && input.digit === '#') return [{ type: 'stopPrompt' }, ...this.finish()];
        if (input.type !== 'promptDone') return [];
        this.stateValue = 'recording';
        return [{ type: 'startRecording' }, { type: 'startTimer', timer: 'max', ms: this.limits.maxMs }];
      case 'recording':
        return this.whileRecording(input);
      case 'stopping':
        return input.type === 'recordingDone' ? this.finish() : [];
      case 'done':
        return [];
    }
  }

  private whileRecording(input: NameRecordingInput): NameRecordingAction[] {
    switch (input.type) {
      case 'talkingStarted':
        this.spoke = true;
        return [{ type: 'cancelTimer', timer: 'silence' }];
      case 'talkingStopped':
        return this.spoke ? [{ type: 'startTimer', timer: 'silence', ms: this.limits.silenceMs }] : [];
      case 'timeout':
        return this.stop();
      case 'digit':
        // Only # ends the name; other keys are noise in it.
        return input.digit === '#' ? this.stop() : [];
      default:
        return [];
    }
  }

  private beep(): NameRecordingAction[] {
    this.stateValue = 'beep';
    return [{ type: 'play', prompts: [NAME_PROMPTS.beep], interruptible: false }];
  }

  private stop(): NameRecordingAction[] {
    this.stateValue = 'stopping';
    return [{ type: 'cancelTimer', timer: 'max' }, { type: 'cancelTimer', timer: 'silence' }, { type: 'stopRecording' }];
  }

  private finish(): NameRecordingAction[] {
    this.stateValue = 'done';
    return [{ type: 'finished', spoke: this.spoke }];
  }
}
