import { describe, expect, it } from 'vitest';
import type { Role } from '../../../src/conference/Role.js';
import type { KeypadAction } from '../../../src/ivr/KeypadCommands.js';
import { defaultKeypadBindings, KeypadBindingError, KeypadCommands } from '../../../src/ivr/KeypadCommands.js';

const OPTIONS = { interDigitTimeoutMs: 2000, maxNumberLength: 15 };

function keypad(muteNonModerator = false): KeypadCommands {
  return new KeypadCommands(defaultKeypadBindings({ muteNonModerator }), OPTIONS);
}

function press(pad: KeypadCommands, digits: string, role: Role): KeypadAction[] {
  return [...digits].flatMap((digit) => pad.handle({ type: 'digit', digit }, role));
}

/** Only what the caller experiences: commands, refusals and error tones. */
function outcomes(actions: KeypadAction[]): KeypadAction[] {
  return actions.filter((a) => a.type !== 'startTimer' && a.type !== 'cancelTimer');
}

describe('KeypadCommands with 001 defaults', () => {
  it('runs *1 at once for every role', () => {
    for (const role of ['host', 'participant', 'listener'] as Role[]) {
      expect(outcomes(press(keypad(), '*1', role))).toEqual([{ type: 'command', command: 'selfMuteToggle' }]);
    }
  });

  it('keeps *1 for hosts when mute_non_moderator is set', () => {
    expect(outcomes(press(keypad(true), '*1', 'participant'))).toEqual([{ type: 'denied', command: 'selfMuteToggle' }]);
    expect(outcomes(press(keypad(true), '*1', 'host'))).toEqual([{ type: 'command', command: 'selfMuteToggle' }]);
  });

  it('maps *90..*95 to the moderator commands and refuses them to others', () => {
    const expected = ['unmuteAllButHosts', 'muteAllButHosts', 'lock', 'unlock', 'joinNotificationsOff', 'joinNotificationsOn'];
    const pad = keypad();
    expected.forEach((command, i) => {
      expect(outcomes(press(pad, `*9${i}`, 'host'))).toEqual([{ type: 'command', command }]);
      expect(outcomes(press(pad, `*9${i}`, 'participant'))).toEqual([{ type: 'denied', command }]);
    });
  });

  it('waits after *9 for the next digit, and a pause there is an error', () => {
    const pad = keypad();
    expect(press(pad, '*9', 'host')).toEqual([{ type: 'startTimer', ms: 2000 }, { type: 'startTimer', ms: 2000 }]);
    expect(pad.busy).toBe(true);
    expect(pad.handle({ type: 'timeout' }, 'host')).toEqual([{ type: 'invalid', sequence: '*9' }]);
    expect(pad.busy).toBe(false);
  });

  it('answers an unknown sequence with the error tone at the first impossible digit', () => {
    const pad = keypad();
    expect(outcomes(press(pad, '*#', 'host'))).toEqual([{ type: 'invalid', sequence: '*#' }]);
    // The keypad is ready again afterwards.
    expect(outcomes(press(pad, '*2', 'listener'))).toEqual([{ type: 'command', command: 'participantCount' }]);
  });

  it('ignores digits that do not start with *', () => {
    const pad = keypad();
    expect(press(pad, '1234#', 'host')).toEqual([]);
    expect(pad.busy).toBe(false);
  });

  it('collects the number after *8 until #', () => {
    const pad = keypad();
    expect(outcomes(press(pad, '*8', 'participant'))).toEqual([]);
    expect(pad.busy).toBe(true);
    expect(outcomes(press(pad, '15550199#', 'participant'))).toEqual([{ type: 'command', command: 'invite', number: '15550199' }]);
    expect(pad.busy).toBe(false);
  });

  it('refuses *8 to listeners, abandons a number on *, on a pause, when empty or too long', () => {
    expect(outcomes(press(keypad(), '*8', 'listener'))).toEqual([{ type: 'denied', command: 'invite' }]);

    const star = keypad();
    expect(outcomes(press(star, '*812*', 'host'))).toEqual([{ type: 'invalid', sequence: '*812*' }]);

    const paused = keypad();
    press(paused, '*8123', 'host');
    expect(paused.handle({ type: 'timeout' }, 'host')).toEqual([{ type: 'invalid', sequence: '*8123' }]);

    const empty = keypad();
    expect(outcomes(press(empty, '*8#', 'host'))).toEqual([{ type: 'invalid', sequence: '*8#' }]);

    const long = keypad();
    const actions = outcomes(press(long, '*8' + '1'.repeat(16), 'host'));
    expect(actions).toEqual([{ type: 'invalid', sequence: '*8' + '1'.repeat(16) }]);
  });

  it('checks the role when the command fires, so a role change applies at once', () => {
    const pad = keypad();
    press(pad, '*9', 'participant');
    expect(outcomes(press(pad, '2', 'host'))).toEqual([{ type: 'command', command: 'lock' }]);
  });

  it('fires a complete sequence that is also a prefix after the pause', () => {
    const pad = new KeypadCommands(
      [
        { command: 'help', sequence: '*4', roles: 'hpl' },
        { command: 'polling', sequence: '*45', roles: 'h' },
      ],
      OPTIONS,
    );
    expect(outcomes(press(pad, '*4', 'participant'))).toEqual([]);
    expect(pad.handle({ type: 'timeout' }, 'participant')).toEqual([{ type: 'command', command: 'help' }]);
    expect(outcomes(press(pad, '*45', 'host'))).toEqual([{ type: 'command', command: 'polling' }]);
  });

  it('ignores non-DTMF input and stray timeouts', () => {
    const pad = keypad();
    expect(pad.handle({ type: 'digit', digit: 'x' }, 'host')).toEqual([]);
    expect(pad.handle({ type: 'digit', digit: '**' }, 'host')).toEqual([]);
    expect(pad.handle({ type: 'timeout' }, 'host')).toEqual([]);
  });
});

describe('keypad bindings', () => {
  it('refuses malformed or clashing bindings', () => {
    const make = (sequence: string, roles = 'h', other = '*1') =>
      new KeypadCommands(
        [
          { command: 'help', sequence, roles },
          { command: 'exit', sequence: other, roles: 'h' },
        ],
        OPTIONS,
      );
    expect(() => make('4')).toThrow(KeypadBindingError);
    expect(() => make('*')).toThrow(KeypadBindingError);
    expect(() => make('*12345678')).toThrow(KeypadBindingError);
    expect(() => make('*4', 'hx')).toThrow(KeypadBindingError);
    expect(() => make('*1')).toThrow(/bound to both/);
    expect(() => make('*4')).not.toThrow();
  });

  it('the defaults are valid and follow 001 exactly', () => {
    const bindings = defaultKeypadBindings({ muteNonModerator: false });
    const bySequence = Object.fromEntries(bindings.map((b) => [b.sequence, b.command]));
    expect(bySequence).toMatchObject({
      '*1': 'selfMuteToggle',
      '*8': 'invite',
      '*90': 'unmuteAllButHosts',
      '*91': 'muteAllButHosts',
      '*92': 'lock',
      '*93': 'unlock',
      '*94': 'joinNotificationsOff',
      '*95': 'joinNotificationsOn',
    });
  });
});
