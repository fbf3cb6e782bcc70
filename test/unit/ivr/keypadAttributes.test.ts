/**
 * Seed 004's keypad attributes over our defaults: role strings from the DID
 * group and the meeting room, bindings from the DID group only, bad values
 * reported and the default kept.
 */
import { describe, expect, it } from 'vitest';
import { KeypadCommands, type KeypadBinding, type KeypadCommand } from '../../../src/ivr/KeypadCommands.js';
import { KEYPAD_FEATURE_ATTRIBUTES, keypadBindingsFor, keypadBindingsForRoom } from '../../../src/ivr/keypadAttributes.js';
import { sayKeys } from '../../../src/ivr/keypadHelp.js';
import { createRootLogger } from '../../../src/log.js';
import { ResolvedAttributes } from '../../../src/conference/attributes/ResolvedAttributes.js';

const a = (name: string, value: string) => ({ name, value });
const find = (bindings: KeypadBinding[], command: KeypadCommand) => bindings.find((b) => b.command === command);
const OPTIONS = { muteNonModerator: false };
const DEFAULT_SELF_MUTE_ROLES = keypadBindingsFor({ didGroup: [], room: [] }, OPTIONS).bindings.find((b) => b.command === 'selfMuteToggle')!.roles;

describe('keypadBindingsFor', () => {
  it('without attributes gives 001’s keys and our defaults', () => {
    const { bindings, problems } = keypadBindingsFor({ didGroup: [], room: [] }, OPTIONS);
    expect(problems).toEqual([]);
    expect(find(bindings, 'selfMuteToggle')).toEqual({ command: 'selfMuteToggle', sequence: '*1', roles: 'hpl' });
    expect(find(bindings, 'muteAllButHosts')?.sequence).toBe('*91');
    // Entry/exit tones have no default key: *94/*95 switch them.
    expect(find(bindings, 'entryExitTonesCycle')).toBeUndefined();
    expect(keypadBindingsFor({ didGroup: [], room: [] }, { muteNonModerator: true }).bindings[0]!.roles).toBe('h');
  });

  it('applies the DID group’s role strings and bindings, then the room’s role strings', () => {
    const { bindings, problems } = keypadBindingsFor(
      {
        didGroup: [
          a('call_mute_dtmf', 'hp'),
          a('call_mute_dtmf_binding', '*6#'),
          a('polling_dtmf_binding', '*66'),
          a('conference_lock_dtmf', 'HP'),
          a('conference_qa_dtmf', 'hp'),
          a('conference_entryexittones_dtmf_binding', '*#'),
        ],
        room: [a('conference_qa_dtmf', ''), a('call_exit_dtmf', 'p')],
      },
      OPTIONS,
    );
    expect(problems).toEqual([]);
    expect(find(bindings, 'selfMuteToggle')).toEqual({ command: 'selfMuteToggle', sequence: '*6#', roles: 'hp' });
    expect(find(bindings, 'polling')?.sequence).toBe('*66');
    expect([find(bindings, 'lock')?.roles, find(bindings, 'unlock')?.roles]).toEqual(['hp', 'hp']);
    // The room says nobody may run Q&A: all three Q&A keys follow.
    expect(['qaToggle', 'qaNext', 'qaClear'].map((c) => find(bindings, c as KeypadCommand)?.roles)).toEqual(['', '', '']);
    expect(find(bindings, 'exit')?.roles).toBe('p');
    expect(find(bindings, 'entryExitTonesCycle')).toEqual({ command: 'entryExitTonesCycle', sequence: '*#', roles: 'h' });
    // The set drives the recognizer: *6# mutes, *1 no longer does anything but the error tone.
    const keypad = new KeypadCommands(bindings, { interDigitTimeoutMs: 3000, maxNumberLength: 15 });
    expect(['*', '6', '#'].flatMap((d) => keypad.handle({ type: 'digit', digit: d }, 'participant'))).toContainEqual({ type: 'command', command: 'selfMuteToggle' });
    expect(keypad.handle({ type: 'digit', digit: '*' }, 'participant')).toEqual([{ type: 'startTimer', ms: 3000 }]);
    expect(keypad.handle({ type: 'digit', digit: '1' }, 'participant')).toContainEqual({ type: 'invalid', sequence: '*1' });
  });

  it('reports bad values and keeps the defaults: bad roles, malformed or clashing sequences, bindings on the room', () => {
    const { bindings, problems } = keypadBindingsFor(
      {
        didGroup: [
          a('call_mute_dtmf', 'hpx'),
          a('call_exit_dtmf_binding', '3'),
          a('call_instructions_dtmf_binding', '*91'),
          a('recording_dtmf_binding', '*123456789'),
        ],
        room: [a('call_mute_dtmf_binding', '*5')],
      },
      OPTIONS,
    );
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/^call_mute_dtmf: "hpx" may only contain h, p and l; kept hpl/);
    expect(problems[1]).toMatch(/^call_instructions_dtmf_binding: \*91 is bound to both .*; kept \*4/);
    expect(problems[2]).toMatch(/^call_exit_dtmf_binding: .*must be \* followed by 1-7 keys; kept \*3/);
    expect(problems[3]).toMatch(/^recording_dtmf_binding: .*kept \*7/);
    expect(problems[4]).toMatch(/^call_mute_dtmf_binding: seed 004 sets it on the DID group only/);
    expect(find(bindings, 'selfMuteToggle')).toEqual({ command: 'selfMuteToggle', sequence: '*1', roles: 'hpl' });
    expect(find(bindings, 'exit')?.sequence).toBe('*3');
    expect(find(bindings, 'help')?.sequence).toBe('*4');
    expect(find(bindings, 'recordingToggle')?.sequence).toBe('*7');
  });
});

describe('every 004 keypad feature attribute', () => {
  // Table-driven over the whole list, so a feature added without working attributes fails here.
  KEYPAD_FEATURE_ATTRIBUTES.forEach((feature, i) => {
    const sequence = `*D${String(i).padStart(2, '0')}`;
    it(`${feature.roles} / ${feature.binding}: the role string reaches ${feature.commands.join(', ')}; the binding moves ${feature.commands[0]}`, () => {
      const { bindings, problems } = keypadBindingsFor({ didGroup: [a(feature.roles, 'l'), a(feature.binding, sequence)], room: [] }, OPTIONS);
      expect(problems).toEqual([]);
      for (const command of feature.commands) expect(find(bindings, command)?.roles).toBe('l');
      expect(find(bindings, feature.commands[0])?.sequence).toBe(sequence);
      // A listener may now use it with the new keys, a participant may not.
      const keys = [...sequence];
      const press = (role: 'listener' | 'participant') => {
        const keypad = new KeypadCommands(bindings, { interDigitTimeoutMs: 3000, maxNumberLength: 15 });
        return keys.flatMap((d) => keypad.handle({ type: 'digit', digit: d }, role));
      };
      if (feature.commands[0] !== 'invite') {
        expect(press('listener')).toContainEqual({ type: 'command', command: feature.commands[0] });
        expect(press('participant')).toContainEqual({ type: 'denied', command: feature.commands[0] });
      }
      // The room's role string overrides the group's (features without a default key exist once the group binds them).
      const room = keypadBindingsFor({ didGroup: [a(feature.roles, 'l'), a(feature.binding, sequence)], room: [a(feature.roles, 'hp')] }, OPTIONS);
      for (const command of feature.commands) expect(find(room.bindings, command)?.roles).toBe('hp');
    });
  });
});

describe('keypadBindingsForRoom', () => {
  const store = { getDidGroup: (id: number) => (id === 7 ? { id, name: 'g', description: '', callFlowId: 1, attributes: [a('call_exit_dtmf_binding', '*33')] } : undefined) };
  const logger = createRootLogger('silent');
  const resolved = (levels: { didGroup?: Array<{ name: string; value: string }>; did?: Array<{ name: string; value: string }>; room?: Array<{ name: string; value: string }> }) =>
    new ResolvedAttributes({ callFlowId: 3, didGroup: levels.didGroup ?? [], did: levels.did ?? [], meetingRoom: levels.room ?? [] });

  it('reads the DID group from the store and the room, with 001’s mute_non_moderator', () => {
    const room = { attributes: [a('mute_non_moderator', 'on')] };
    const bindings = keypadBindingsForRoom(store, 7, room, resolved({ room: room.attributes }), logger);
    expect(find(bindings, 'exit')?.sequence).toBe('*33');
    expect(find(bindings, 'selfMuteToggle')?.roles).toBe('h');
    // An unknown group is no attributes at all.
    expect(find(keypadBindingsForRoom(store, 8, { attributes: [] }, resolved({}), logger), 'exit')?.sequence).toBe('*3');
  });

  it('takes mute_non_moderator from the resolver: its other spellings and levels count, a room "off" overrides the group', () => {
    const muted = (attributes: ResolvedAttributes) => find(keypadBindingsForRoom(store, 7, { attributes: [] }, attributes, logger), 'selfMuteToggle')?.roles;
    expect(muted(resolved({ room: [a('mute_non_moderator', 'true')] }))).toBe('h');
    // 001's setting is a DID group or room one: a DID's value is ignored, as the resolver rules.
    expect(muted(resolved({ did: [a('mute_non_moderator', '1')] }))).toBe(DEFAULT_SELF_MUTE_ROLES);
    expect(muted(resolved({ didGroup: [a('mute_non_moderator', 'on')], room: [a('mute_non_moderator', 'off')] }))).toBe(DEFAULT_SELF_MUTE_ROLES);
    expect(muted(resolved({ didGroup: [a('mute_non_moderator', 'on')] }))).toBe('h');
  });
});

describe('sayKeys', () => {
  it('says star, pound and digits', () => {
    expect(sayKeys('*#05')).toEqual(['digits/star', 'digits/pound', 'digits/0', 'digits/5']);
  });
});
