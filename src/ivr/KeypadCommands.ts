/**
 * In-meeting keypad commands as a pure state machine: it turns the digits a
 * participant presses into commands, checking each command's role
 * permissions, and answers with the actions its driver carries out (run a
 * command, play the error tone, arm or cancel the inter-digit timer).
 *
 * Rules a caller can rely on:
 * - a command starts with `*`; other digits outside a command are ignored
 *   (they are not meant for us, e.g. an IVR of the far end);
 * - a sequence fires as soon as it is complete and no longer binding starts
 *   with it (`*1` at once; `*9` waits for the next digit, `*90`..`*95`);
 *   a complete sequence that is also a prefix fires after the pause;
 * - a sequence that matches no binding, or a pause in the middle of one,
 *   gets the error tone;
 * - a command the caller's role may not use gets the error tone too;
 * - `*8` (invite) then collects a number ended by `#`; `*` or a pause
 *   abandons it (error tone), so does a number longer than E.164 allows.
 */
import type { Role } from '../conference/Role.js';

export type KeypadCommand =
  | 'selfMuteToggle'
  | 'invite'
  | 'unmuteAllButHosts'
  | 'muteAllButHosts'
  | 'lock'
  | 'unlock'
  | 'joinNotificationsOff'
  | 'joinNotificationsOn'
  | 'operator'
  | 'participantCount'
  | 'exit'
  | 'help'
  | 'raiseHand'
  | 'recordingToggle'
  | 'holdToggle'
  | 'qaToggle'
  | 'qaNext'
  | 'qaClear'
  | 'entryExitTonesCycle'
  | 'scheduleExtend'
  | 'polling';

export interface KeypadBinding {
  command: KeypadCommand;
  /** The DTMF sequence, starting with `*`, e.g. `*91`. */
  sequence: string;
  /** Roles allowed to use it, written as seed 004 does: any of `h`, `p`, `l` (e.g. `hpl`). */
  roles: string;
}

export interface KeypadOptions {
  interDigitTimeoutMs: number;
  /** Longest number `*8` accepts (E.164: 15). */
  maxNumberLength: number;
}

export type KeypadInput = { type: 'digit'; digit: string } | { type: 'timeout' };

export type KeypadAction =
  | { type: 'command'; command: KeypadCommand; number?: string }
  | { type: 'denied'; command: KeypadCommand }
  | { type: 'invalid'; sequence: string }
  | { type: 'startTimer'; ms: number }
  | { type: 'cancelTimer' };

/** 001's phone commands exactly, plus defaults for 004's bindable features. */
export function defaultKeypadBindings(options: { muteNonModerator: boolean }): KeypadBinding[] {
  return [
    // 001: with mute_non_moderator, only the moderator may use *1.
    { command: 'selfMuteToggle', sequence: '*1', roles: options.muteNonModerator ? 'h' : 'hpl' },
    { command: 'invite', sequence: '*8', roles: 'hp' },
    { command: 'unmuteAllButHosts', sequence: '*90', roles: 'h' },
    { command: 'muteAllButHosts', sequence: '*91', roles: 'h' },
    { command: 'lock', sequence: '*92', roles: 'h' },
    { command: 'unlock', sequence: '*93', roles: 'h' },
    { command: 'joinNotificationsOff', sequence: '*94', roles: 'h' },
    { command: 'joinNotificationsOn', sequence: '*95', roles: 'h' },
    // 004's bindable features, on keys 001 leaves free.
    { command: 'operator', sequence: '*0', roles: 'hpl' },
    { command: 'participantCount', sequence: '*2', roles: 'hpl' },
    { command: 'exit', sequence: '*3', roles: 'hpl' },
    { command: 'help', sequence: '*4', roles: 'hpl' },
    { command: 'raiseHand', sequence: '*5', roles: 'pl' },
    { command: 'polling', sequence: '*6', roles: 'h' },
    { command: 'recordingToggle', sequence: '*7', roles: 'h' },
    { command: 'holdToggle', sequence: '*96', roles: 'h' },
    { command: 'qaToggle', sequence: '*97', roles: 'h' },
    { command: 'qaNext', sequence: '*98', roles: 'h' },
    { command: 'qaClear', sequence: '*99', roles: 'h' },
  ];
}

const ROLE_LETTERS: Record<Role, string> = { host: 'h', participant: 'p', listener: 'l' };

/** Whether a binding's role string lets this role use it. */
export function roleMayUse(binding: KeypadBinding, role: Role): boolean {
  return binding.roles.includes(ROLE_LETTERS[role]);
}

const KEYPAD_DIGIT = /^[0-9*#A-D]$/;

export class KeypadBindingError extends Error {
  override name = 'KeypadBindingError';
}

/** Checks a binding set: well-formed sequences and role strings, no duplicates. */
export function validateBindings(bindings: readonly KeypadBinding[]): void {
  const seen = new Map<string, KeypadCommand>();
  for (const binding of bindings) {
    if (!/^\*[0-9*#A-D]{1,7}$/.test(binding.sequence)) {
      throw new KeypadBindingError(`${binding.command}: sequence "${binding.sequence}" must be * followed by 1-7 keys`);
    }
    if (!/^[hpl]*$/.test(binding.roles)) {
      throw new KeypadBindingError(`${binding.command}: roles "${binding.roles}" may only contain h, p and l`);
    }
    const clash = seen.get(binding.sequence);
    if (clash) throw new KeypadBindingError(`${binding.sequence} is bound to both ${clash} and ${binding.command}`);
    seen.set(binding.sequence, binding.command);
  }
}

export class KeypadCommands {
  private readonly bindings: readonly KeypadBinding[];
  private sequence = '';
  /** Set while `*8` collects the number to invite. */
  private number: string | undefined;
  /** The sequence that started the number entry, for error reports. */
  private numberPrefix = '';

  constructor(
    bindings: readonly KeypadBinding[],
    private readonly options: KeypadOptions,
  ) {
    validateBindings(bindings);
    this.bindings = bindings;
  }

  /** Whether a command or a number is being entered. */
  get busy(): boolean {
    return this.sequence !== '' || this.number !== undefined;
  }

  handle(input: KeypadInput, role: Role): KeypadAction[] {
    if (input.type === 'timeout') return this.onTimeout(role);
    if (!KEYPAD_DIGIT.test(input.digit)) return [];
    if (this.number !== undefined) return this.onNumberDigit(input.digit);
    if (this.sequence === '' && input.digit !== '*') return [];
    this.sequence += input.digit;
    const exact = this.bindings.find((b) => b.sequence === this.sequence);
    const longer = this.bindings.some((b) => b.sequence.length > this.sequence.length && b.sequence.startsWith(this.sequence));
    if (exact && !longer) return [{ type: 'cancelTimer' }, ...this.fire(exact, role)];
    if (exact || longer) return [{ type: 'startTimer', ms: this.options.interDigitTimeoutMs }];
    return [{ type: 'cancelTimer' }, this.invalid()];
  }

  private onTimeout(role: Role): KeypadAction[] {
    if (this.number !== undefined) {
      const sequence = this.numberPrefix + this.number;
      this.number = undefined;
      return [{ type: 'invalid', sequence }];
    }
    if (this.sequence === '') return [];
    const exact = this.bindings.find((b) => b.sequence === this.sequence);
    return exact ? this.fire(exact, role) : [this.invalid()];
  }

  private onNumberDigit(digit: string): KeypadAction[] {
    const number = this.number ?? '';
    if (digit === '#') {
      this.number = undefined;
      if (number === '') return [{ type: 'cancelTimer' }, { type: 'invalid', sequence: `${this.numberPrefix}#` }];
      return [{ type: 'cancelTimer' }, { type: 'command', command: 'invite', number }];
    }
    if (!/^[0-9]$/.test(digit) || number.length >= this.options.maxNumberLength) {
      this.number = undefined;
      return [{ type: 'cancelTimer' }, { type: 'invalid', sequence: `${this.numberPrefix}${number}${digit}` }];
    }
    this.number = number + digit;
    return [{ type: 'startTimer', ms: this.options.interDigitTimeoutMs }];
  }

  private fire(binding: KeypadBinding, role: Role): KeypadAction[] {
    this.sequence = '';
    if (!roleMayUse(binding, role)) return [{ type: 'denied', command: binding.command }];
    if (binding.command === 'invite') {
      this.number = '';
      this.numberPrefix = binding.sequence;
      return [{ type: 'startTimer', ms: this.options.interDigitTimeoutMs }];
    }
    return [{ type: 'command', command: binding.command }];
  }

  private invalid(): KeypadAction {
    const sequence = this.sequence;
    this.sequence = '';
    return { type: 'invalid', sequence };
  }
}
