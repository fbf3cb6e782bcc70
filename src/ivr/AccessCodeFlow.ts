/**
 * The access-code dialogue with a caller, as a pure state machine: it is fed
 * inputs (digits, prompt ends, timer expiries, lookup results) and answers
 * with the actions its driver must carry out. No sockets, timers or media
 * here, so every path is testable by feeding inputs.
 *
 * Caller-facing behaviour:
 * - the caller hears "enter the code" and may type ahead: a digit during a
 *   prompt stops it and counts;
 * - `#` ends the code, so does a pause of `digitTimeoutMs` after the last
 *   digit (or after the prompt when nothing was typed);
 * - a wrong, empty or overlong code plays "invalid" and asks again; after
 *   `maxAttempts` failures (004 `call_operator_after`; Infinity for its -1)
 *   the caller hears goodbye and is hung up on, or with `exhausted:
 *   'operator'` hears the transfer prompt and is handed to an operator;
 * - a `welcome` greeting (004 `dnis_welcomeprompt`) comes before the first
 *   request, and typing ahead during it counts too.
 *
 * The same dialogue asks for a PIN or a job code, with other prompts.
 */

export type PromptName = string;

export interface AccessCodeFlowOptions {
  digitTimeoutMs: number;
  /** Failures before giving up; Infinity never gives up. */
  maxAttempts: number;
  maxCodeLength: number;
  prompts: {
    enterCode: PromptName;
    invalidCode: PromptName;
    goodbye: PromptName;
    /** Played before the operator transfer (exhausted: 'operator'). */
    transfer?: PromptName;
  };
  /** Played once before the first request (004 dnis_welcomeprompt). */
  welcome?: PromptName[];
  /** What follows the last failure: goodbye and hang up (default), or the operator. */
  exhausted?: 'goodbye' | 'operator';
}

export type AccessCodeInput =
  | { type: 'start' }
  | { type: 'digit'; digit: string }
  | { type: 'promptDone'; interrupted: boolean }
  | { type: 'digitTimeout' }
  | { type: 'codeAccepted' }
  | { type: 'codeRejected' };

export type AccessCodeAction =
  | { type: 'play'; prompts: PromptName[]; interruptible: boolean }
  | { type: 'stopPrompt' }
  | { type: 'startDigitTimer'; ms: number }
  | { type: 'cancelDigitTimer' }
  | { type: 'checkCode'; code: string }
  | { type: 'accepted'; code: string }
  | { type: 'hangup'; reason: 'too-many-attempts' }
  /** Hand the caller to the operator (the transfer prompt has played). */
  | { type: 'operator' };

export type AccessCodeState =
  | 'idle'
  /** Prompting for or collecting digits. */
  | 'collecting'
  /** A code was submitted; waiting for the lookup result. */
  | 'checking'
  /** Playing goodbye before hanging up. */
  | 'goodbye'
  /** Playing the transfer prompt before the operator. */
  | 'transfer'
  | 'accepted'
  | 'ended';

const DTMF_DIGITS = /^[0-9*#A-D]$/;

export class AccessCodeFlow {
  private stateValue: AccessCodeState = 'idle';
  private digits = '';
  private attempts = 0;
  private promptPlaying = false;
  private submitted = '';

  constructor(private readonly options: AccessCodeFlowOptions) {}

  get state(): AccessCodeState {
    return this.stateValue;
  }

  /** Failed attempts so far. */
  get failedAttempts(): number {
    return this.attempts;
  }

  handle(input: AccessCodeInput): AccessCodeAction[] {
    switch (input.type) {
      case 'start':
        return this.stateValue === 'idle' ? this.ask([...(this.options.welcome ?? []), this.options.prompts.enterCode]) : [];
      case 'digit':
        return this.onDigit(input.digit);
      case 'promptDone':
        return this.onPromptDone(input.interrupted);
      case 'digitTimeout':
        return this.stateValue === 'collecting' && !this.promptPlaying ? this.submit() : [];
      case 'codeAccepted':
        if (this.stateValue !== 'checking') return [];
        this.stateValue = 'accepted';
        return [{ type: 'accepted', code: this.submitted }];
      case 'codeRejected':
        return this.stateValue === 'checking' ? this.fail() : [];
    }
  }

  private ask(prompts: PromptName[]): AccessCodeAction[] {
    this.stateValue = 'collecting';
    this.digits = '';
    this.promptPlaying = true;
    return [{ type: 'play', prompts, interruptible: true }];
  }

  private onDigit(digit: string): AccessCodeAction[] {
    if (this.stateValue !== 'collecting' || !DTMF_DIGITS.test(digit)) return [];
    const actions: AccessCodeAction[] = [];
    if (this.promptPlaying) {
      this.promptPlaying = false;
      actions.push({ type: 'stopPrompt' });
    }
    if (digit === '#') {
      actions.push({ type: 'cancelDigitTimer' }, ...this.submit());
      return actions;
    }
    this.digits += digit;
    if (this.digits.length > this.options.maxCodeLength) {
      // No code is this long: fail now rather than let the caller type forever.
      actions.push({ type: 'cancelDigitTimer' }, ...this.fail());
      return actions;
    }
    actions.push({ type: 'startDigitTimer', ms: this.options.digitTimeoutMs });
    return actions;
  }

  private onPromptDone(interrupted: boolean): AccessCodeAction[] {
    if (this.stateValue === 'goodbye') {
      this.stateValue = 'ended';
      return [{ type: 'hangup', reason: 'too-many-attempts' }];
    }
    if (this.stateValue === 'transfer') {
      this.stateValue = 'ended';
      return [{ type: 'operator' }];
    }
    if (this.stateValue !== 'collecting' || !this.promptPlaying) return [];
    this.promptPlaying = false;
    // An interrupted prompt was stopped by a digit, which armed the timer itself.
    return interrupted ? [] : [{ type: 'startDigitTimer', ms: this.options.digitTimeoutMs }];
  }

  private submit(): AccessCodeAction[] {
    if (this.digits === '') return this.fail();
    this.submitted = this.digits;
    this.digits = '';
    this.stateValue = 'checking';
    return [{ type: 'checkCode', code: this.submitted }];
  }

  private fail(): AccessCodeAction[] {
    this.attempts++;
    this.digits = '';
    if (this.attempts >= this.options.maxAttempts) {
      this.promptPlaying = true;
      if (this.options.exhausted === 'operator') {
        this.stateValue = 'transfer';
        const transfer = this.options.prompts.transfer;
        return [{ type: 'play', prompts: [this.options.prompts.invalidCode, ...(transfer ? [transfer] : [])], interruptible: false }];
      }
      this.stateValue = 'goodbye';
      return [{ type: 'play', prompts: [this.options.prompts.invalidCode, this.options.prompts.goodbye], interruptible: false }];
    }
    return this.ask([this.options.prompts.invalidCode, this.options.prompts.enterCode]);
  }
}
