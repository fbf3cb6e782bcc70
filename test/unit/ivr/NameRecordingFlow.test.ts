/**
 * Roll call's name dialogue as a pure state machine: prompt, beep,
 * recording; type-ahead during the prompt; # to skip or to end; silence
 * after speech and the maximum length; a caller who says nothing.
 */
import { describe, expect, it } from 'vitest';
import type { NameRecordingAction, NameRecordingInput } from '../../../src/ivr/NameRecordingFlow.js';
import { NameRecordingFlow } from '../../../src/ivr/NameRecordingFlow.js';

const LIMITS = { maxMs: 4000, silenceMs: 700 };

function run(flow: NameRecordingFlow, ...inputs: NameRecordingInput[]): NameRecordingAction[] {
  return inputs.flatMap((input) => flow.handle(input));
}

/** A flow that has played the prompt and the beep and is recording. */
function recording(): NameRecordingFlow {
  const flow = new NameRecordingFlow(LIMITS);
  run(flow, { type: 'start' }, { type: 'promptDone' }, { type: 'promptDone' });
  expect(flow.state).toBe('recording');
  return flow;
}

const STOP: NameRecordingAction[] = [{ type: 'cancelTimer', timer: 'max' }, { type: 'cancelTimer', timer: 'silence' }, { type: 'stopRecording' }];

describe('NameRecordingFlow', () => {
  it('asks for the name (interruptible), beeps (not interruptible), then records with the maximum armed', () => {
    const flow = new NameRecordingFlow(LIMITS);
    expect(flow.handle({ type: 'start' })).toEqual([{ type: 'play', prompts: ['vm-rec-name'], interruptible: true }]);
    expect(flow.handle({ type: 'promptDone' })).toEqual([{ type: 'play', prompts: ['beep'], interruptible: false }]);
    expect(flow.handle({ type: 'promptDone' })).toEqual([{ type: 'startRecording' }, { type: 'startTimer', timer: 'max', ms: 4000 }]);
  });

  it('ends on quiet after speech: talking stopped arms the silence timer, talking again cancels it', () => {
    const flow = recording();
    expect(flow.handle({ type: 'talkingStarted' })).toEqual([{ type: 'cancelTimer', timer: 'silence' }]);
    expect(flow.handle({ type: 'talkingStopped' })).toEqual([{ type: 'startTimer', timer: 'silence', ms: 700 }]);
    expect(flow.handle({ type: 'talkingStarted' })).toEqual([{ type: 'cancelTimer', timer: 'silence' }]);
    run(flow, { type: 'talkingStopped' });
    expect(flow.handle({ type: 'timeout', timer: 'silence' })).toEqual(STOP);
    expect(flow.state).toBe('stopping');
    expect(flow.handle({ type: 'recordingDone' })).toEqual([{ type: 'finished', spoke: true }]);
    expect(flow.state).toBe('done');
  });

  it('ends on # while recording, keeping what was said', () => {
    const flow = recording();
    run(flow, { type: 'talkingStarted' });
    expect(flow.handle({ type: 'digit', digit: '5' })).toEqual([]);
    expect(flow.handle({ type: 'digit', digit: '#' })).toEqual(STOP);
    expect(flow.handle({ type: 'recordingDone' })).toEqual([{ type: 'finished', spoke: true }]);
  });

  it('ends at the maximum for a caller who keeps talking', () => {
    const flow = recording();
    run(flow, { type: 'talkingStarted' });
    expect(flow.handle({ type: 'timeout', timer: 'max' })).toEqual(STOP);
    expect(flow.handle({ type: 'recordingDone' })).toEqual([{ type: 'finished', spoke: true }]);
  });

  it('a caller who says nothing ends at the maximum with no name', () => {
    const flow = recording();
    // Quiet before any speech arms nothing.
    expect(flow.handle({ type: 'talkingStopped' })).toEqual([]);
    expect(flow.handle({ type: 'timeout', timer: 'max' })).toEqual(STOP);
    expect(flow.handle({ type: 'recordingDone' })).toEqual([{ type: 'finished', spoke: false }]);
  });

  it('type-ahead: a key during the prompt stops it and goes straight to the beep', () => {
    const flow = new NameRecordingFlow(LIMITS);
    run(flow, { type: 'start' });
    expect(flow.handle({ type: 'digit', digit: '1' })).toEqual([{ type: 'stopPrompt' }, { type: 'play', prompts: ['beep'], interruptible: false }]);
    // The interrupted prompt's end is the beep's: only the beep's own end starts the recording.
    expect(flow.state).toBe('beep');
  });

  it('# during the prompt or the beep skips the name: no recording, no name', () => {
    const flow = new NameRecordingFlow(LIMITS);
    run(flow, { type: 'start' });
    expect(flow.handle({ type: 'digit', digit: '#' })).toEqual([{ type: 'stopPrompt' }, { type: 'finished', spoke: false }]);
    const beeping = new NameRecordingFlow(LIMITS);
    run(beeping, { type: 'start' }, { type: 'promptDone' });
    expect(beeping.handle({ type: 'digit', digit: '#' })).toEqual([{ type: 'stopPrompt' }, { type: 'finished', spoke: false }]);
  });

  it('talking during the prompt is not a name, and nothing happens once done', () => {
    const flow = new NameRecordingFlow(LIMITS);
    run(flow, { type: 'start' });
    expect(flow.handle({ type: 'talkingStarted' })).toEqual([]);
    run(flow, { type: 'promptDone' }, { type: 'promptDone' }, { type: 'timeout', timer: 'max' });
    expect(flow.handle({ type: 'recordingDone' })).toEqual([{ type: 'finished', spoke: false }]);
    expect(flow.handle({ type: 'digit', digit: '#' })).toEqual([]);
    expect(flow.handle({ type: 'recordingDone' })).toEqual([]);
  });
});
