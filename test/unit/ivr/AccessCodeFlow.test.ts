import { describe, expect, it } from 'vitest';
import type { AccessCodeAction, AccessCodeInput } from '../../../src/ivr/AccessCodeFlow.js';
import { AccessCodeFlow } from '../../../src/ivr/AccessCodeFlow.js';

const prompts = { enterCode: 'enter', invalidCode: 'invalid', goodbye: 'bye' };

function newFlow(overrides: Partial<ConstructorParameters<typeof AccessCodeFlow>[0]> = {}): AccessCodeFlow {
  return new AccessCodeFlow({ digitTimeoutMs: 5000, maxAttempts: 3, maxCodeLength: 8, prompts, ...overrides });
}

/** Feeds digits one by one and returns every action produced. */
function press(flow: AccessCodeFlow, digits: string): AccessCodeAction[] {
  return [...digits].flatMap((digit) => flow.handle({ type: 'digit', digit }));
}

function feed(flow: AccessCodeFlow, ...inputs: AccessCodeInput[]): AccessCodeAction[] {
  return inputs.flatMap((input) => flow.handle(input));
}

describe('AccessCodeFlow', () => {
  it('asks for the code with an interruptible prompt', () => {
    const flow = newFlow();
    expect(flow.handle({ type: 'start' })).toEqual([{ type: 'play', prompts: ['enter'], interruptible: true }]);
    expect(flow.state).toBe('collecting');
  });

  it('starts the pause timer when the prompt ends untouched', () => {
    const flow = newFlow();
    flow.handle({ type: 'start' });
    expect(flow.handle({ type: 'promptDone', interrupted: false })).toEqual([{ type: 'startDigitTimer', ms: 5000 }]);
  });

  it('keeps type-ahead: a digit during the prompt stops it and counts', () => {
    const flow = newFlow();
    flow.handle({ type: 'start' });
    const actions = press(flow, '2');
    expect(actions[0]).toEqual({ type: 'stopPrompt' });
    expect(actions).toContainEqual({ type: 'startDigitTimer', ms: 5000 });
    // The interrupted prompt's end must not re-arm anything or lose the digit.
    expect(flow.handle({ type: 'promptDone', interrupted: true })).toEqual([]);
    const end = press(flow, '222#');
    expect(end).toContainEqual({ type: 'checkCode', code: '2222' });
  });

  it('submits on # and joins when the code is accepted', () => {
    const flow = newFlow();
    feed(flow, { type: 'start' }, { type: 'promptDone', interrupted: false });
    expect(press(flow, '1111#')).toContainEqual({ type: 'checkCode', code: '1111' });
    expect(flow.state).toBe('checking');
    expect(flow.handle({ type: 'codeAccepted' })).toEqual([{ type: 'accepted', code: '1111' }]);
    expect(flow.state).toBe('accepted');
    // Once joined, the flow ignores further digits and timers.
    expect(press(flow, '5')).toEqual([]);
    expect(flow.handle({ type: 'digitTimeout' })).toEqual([]);
  });

  it('submits after a pause without #', () => {
    const flow = newFlow();
    feed(flow, { type: 'start' }, { type: 'promptDone', interrupted: false });
    press(flow, '3333');
    expect(flow.handle({ type: 'digitTimeout' })).toEqual([{ type: 'checkCode', code: '3333' }]);
  });

  it('asks again after an invalid code, then says goodbye and hangs up after three', () => {
    const flow = newFlow();
    feed(flow, { type: 'start' }, { type: 'promptDone', interrupted: false });
    for (let attempt = 1; attempt <= 2; attempt++) {
      press(flow, '9#');
      expect(flow.handle({ type: 'codeRejected' })).toEqual([
        { type: 'play', prompts: ['invalid', 'enter'], interruptible: true },
      ]);
      expect(flow.failedAttempts).toBe(attempt);
    }
    press(flow, '9#');
    expect(flow.handle({ type: 'codeRejected' })).toEqual([{ type: 'play', prompts: ['invalid', 'bye'], interruptible: false }]);
    expect(flow.state).toBe('goodbye');
    // Digits during goodbye are ignored; the hang-up follows the prompt.
    expect(press(flow, '1111#')).toEqual([]);
    expect(flow.handle({ type: 'promptDone', interrupted: false })).toEqual([{ type: 'hangup', reason: 'too-many-attempts' }]);
    expect(flow.state).toBe('ended');
  });

  it('counts silence and an empty # as failed attempts', () => {
    const flow = newFlow();
    feed(flow, { type: 'start' }, { type: 'promptDone', interrupted: false });
    expect(flow.handle({ type: 'digitTimeout' })).toEqual([{ type: 'play', prompts: ['invalid', 'enter'], interruptible: true }]);
    flow.handle({ type: 'promptDone', interrupted: false });
    expect(press(flow, '#')).toContainEqual({ type: 'play', prompts: ['invalid', 'enter'], interruptible: true });
    expect(flow.failedAttempts).toBe(2);
  });

  it('fails an overlong code at once instead of waiting for #', () => {
    const flow = newFlow({ maxCodeLength: 4 });
    feed(flow, { type: 'start' }, { type: 'promptDone', interrupted: false });
    const actions = press(flow, '12345');
    expect(actions).toContainEqual({ type: 'play', prompts: ['invalid', 'enter'], interruptible: true });
    expect(actions.some((a) => a.type === 'checkCode')).toBe(false);
  });

  it('ignores inputs that are not DTMF digits and out-of-order events', () => {
    const flow = newFlow();
    expect(flow.handle({ type: 'digit', digit: '1' })).toEqual([]); // before start
    flow.handle({ type: 'start' });
    expect(flow.handle({ type: 'digit', digit: 'x' })).toEqual([]);
    expect(flow.handle({ type: 'digit', digit: '12' })).toEqual([]);
    expect(flow.handle({ type: 'codeAccepted' })).toEqual([]);
    expect(flow.handle({ type: 'start' })).toEqual([]);
  });

  it('a digit typed during the invalid prompt starts the next attempt', () => {
    const flow = newFlow();
    feed(flow, { type: 'start' }, { type: 'promptDone', interrupted: false });
    press(flow, '9#');
    flow.handle({ type: 'codeRejected' });
    const actions = press(flow, '2222#');
    expect(actions[0]).toEqual({ type: 'stopPrompt' });
    expect(actions).toContainEqual({ type: 'checkCode', code: '2222' });
  });

  it('plays the welcome greeting (dnis_welcomeprompt) before the first request only, type-ahead included', () => {
    const flow = newFlow({ welcome: ['hello'] });
    expect(flow.handle({ type: 'start' })).toEqual([{ type: 'play', prompts: ['hello', 'enter'], interruptible: true }]);
    // A digit during the greeting stops it and counts.
    expect(press(flow, '9')[0]).toEqual({ type: 'stopPrompt' });
    press(flow, '#');
    expect(flow.handle({ type: 'codeRejected' })).toEqual([{ type: 'play', prompts: ['invalid', 'enter'], interruptible: true }]);
  });

  it('hands the caller to the operator after the last failure when so configured (call_operator_after)', () => {
    const flow = newFlow({ maxAttempts: 2, exhausted: 'operator', prompts: { ...prompts, transfer: 'transfer' } });
    feed(flow, { type: 'start' }, { type: 'promptDone', interrupted: false });
    press(flow, '1#');
    flow.handle({ type: 'codeRejected' });
    press(flow, '2#');
    expect(flow.handle({ type: 'codeRejected' })).toEqual([{ type: 'play', prompts: ['invalid', 'transfer'], interruptible: false }]);
    expect(flow.state).toBe('transfer');
    // Digits during the transfer prompt are ignored; its end hands over.
    expect(press(flow, '3')).toEqual([]);
    expect(flow.handle({ type: 'promptDone', interrupted: false })).toEqual([{ type: 'operator' }]);
    expect(flow.state).toBe('ended');
  });

  it('never gives up with unlimited attempts (call_operator_after -1)', () => {
    const flow = newFlow({ maxAttempts: Infinity });
    feed(flow, { type: 'start' }, { type: 'promptDone', interrupted: false });
    for (let i = 0; i < 50; i++) {
      press(flow, '0#');
      expect(flow.handle({ type: 'codeRejected' })).toEqual([{ type: 'play', prompts: ['invalid', 'enter'], interruptible: true }]);
    }
    expect(flow.failedAttempts).toBe(50);
  });

  it('a caller who never presses anything fails each attempt on the pause, then hears goodbye', () => {
    const flow = newFlow();
    const actions = feed(
      flow,
      { type: 'start' },
      { type: 'promptDone', interrupted: false },
      { type: 'digitTimeout' },
      { type: 'promptDone', interrupted: false },
      { type: 'digitTimeout' },
      { type: 'promptDone', interrupted: false },
      { type: 'digitTimeout' },
    );
    expect(actions.filter((a) => a.type === 'checkCode')).toEqual([]);
    expect(actions.at(-1)).toEqual({ type: 'play', prompts: ['invalid', 'bye'], interruptible: false });
    expect(flow.handle({ type: 'promptDone', interrupted: false })).toEqual([{ type: 'hangup', reason: 'too-many-attempts' }]);
  });
});
