/**
 * Seed 004's keypad attributes: for each bindable feature, a role string
 * (`call_mute_dtmf`: which of h, p, l may use it; set on the meeting room or
 * the DID group) and a DTMF sequence (`call_mute_dtmf_binding`; set on the
 * DID group only). They are applied over our defaults
 * (`defaultKeypadBindings`). A bad value is reported and the default kept,
 * so one typo in an attribute never takes a caller's keypad away.
 */
import type { ResolvedAttributes } from '../conference/attributes/ResolvedAttributes.js';
import type { Logger } from '../log.js';
import type { ConferenceStore, MeetingRoom } from '../store/StoreTypes.js';
import type { KeypadBinding, KeypadCommand } from './KeypadCommands.js';
import { defaultKeypadBindings, KeypadBindingError, validateBindings } from './KeypadCommands.js';

interface Attribute {
  name: string;
  value: string;
}

/**
 * A feature of seed 004 and the commands it governs: the role string
 * applies to all of them, the binding moves the first one. Where 001 has a
 * pair of keys for one 004 feature (mute others: *91 mute, *90 unmute;
 * lock: *92, *93), the pair shares the roles and the binding moves the
 * first key.
 */
interface FeatureAttributes {
  roles: string;
  binding: string;
  commands: [KeypadCommand, ...KeypadCommand[]];
}

export const KEYPAD_FEATURE_ATTRIBUTES: readonly FeatureAttributes[] = [
  { roles: 'call_mute_dtmf', binding: 'call_mute_dtmf_binding', commands: ['selfMuteToggle'] },
  { roles: 'conference_mute_dtmf', binding: 'conference_mute_dtmf_binding', commands: ['muteAllButHosts', 'unmuteAllButHosts'] },
  { roles: 'call_instructions_dtmf', binding: 'call_instructions_dtmf_binding', commands: ['help'] },
  { roles: 'call_participantsnumber_dtmf', binding: 'call_participantsnumber_dtmf_binding', commands: ['participantCount'] },
  { roles: 'call_exit_dtmf', binding: 'call_exit_dtmf_binding', commands: ['exit'] },
  { roles: 'conference_lock_dtmf', binding: 'conference_lock_dtmf_binding', commands: ['lock', 'unlock'] },
  { roles: 'conference_hold_dtmf', binding: 'conference_hold_dtmf_binding', commands: ['holdToggle'] },
  // Whoever may start Q&A also runs its queue.
  { roles: 'conference_qa_dtmf', binding: 'conference_qa_dtmf_binding', commands: ['qaToggle', 'qaNext', 'qaClear'] },
  { roles: 'recording_dtmf', binding: 'recording_dtmf_binding', commands: ['recordingToggle'] },
  { roles: 'conference_entryexittones_dtmf', binding: 'conference_entryexittones_dtmf_binding', commands: ['entryExitTonesCycle'] },
  { roles: 'call_operator_dtmf', binding: 'call_operator_dtmf_binding', commands: ['operator'] },
  { roles: 'conference_schedule_extend_dtmf', binding: 'conference_schedule_extend_dtmf_binding', commands: ['scheduleExtend'] },
  { roles: 'polling_dtmf', binding: 'polling_dtmf_binding', commands: ['polling'] },
];

/** The attributes that can set each level, as seed 004 says where to set them. */
export interface KeypadAttributeLevels {
  /** The DID group the caller dialed into: roles and bindings. */
  didGroup: readonly Attribute[];
  /** The meeting room: roles only; overrides the DID group's. */
  room: readonly Attribute[];
}

export interface KeypadBindingSet {
  bindings: KeypadBinding[];
  /** One line per attribute that was not applied, with why. */
  problems: string[];
}

/**
 * The keypad of a meeting room reached through a DID group: our defaults
 * (001's keys, `mute_non_moderator` for *1), then the DID group's role
 * strings and bindings, then the room's role strings.
 */
export function keypadBindingsFor(levels: KeypadAttributeLevels, options: { muteNonModerator: boolean }): KeypadBindingSet {
  const defaults = defaultKeypadBindings(options);
  const sequences = new Map<KeypadCommand, string>(defaults.map((b) => [b.command, b.sequence]));
  // Features without a default key (entry/exit tones) are for hosts once a DID group binds them.
  const roles = new Map<KeypadCommand, string>(defaults.map((b) => [b.command, b.roles]));
  const problems: string[] = [];
  const build = (): KeypadBinding[] =>
    [...sequences].map(([command, sequence]) => ({ command, sequence, roles: roles.get(command) ?? 'h' }));
  for (const [level, attributes] of [['didGroup', levels.didGroup], ['room', levels.room]] as const) {
    for (const feature of KEYPAD_FEATURE_ATTRIBUTES) {
      const roleValue = valueOf(attributes, feature.roles);
      if (roleValue !== undefined) {
        const letters = roleValue.toLowerCase();
        if (/^[hpl]*$/.test(letters)) for (const command of feature.commands) roles.set(command, letters);
        else problems.push(`${feature.roles}: "${roleValue}" may only contain h, p and l; kept ${roles.get(feature.commands[0]) ?? 'h'}`);
      }
      const sequence = valueOf(attributes, feature.binding);
      if (sequence === undefined) continue;
      if (level === 'room') {
        problems.push(`${feature.binding}: seed 004 sets it on the DID group only, not on the meeting room; ignored`);
        continue;
      }
      const command = feature.commands[0];
      const before = sequences.get(command);
      sequences.set(command, sequence);
      try {
        validateBindings(build());
      } catch (err) {
        if (!(err instanceof KeypadBindingError)) throw err;
        if (before === undefined) sequences.delete(command);
        else sequences.set(command, before);
        problems.push(`${feature.binding}: ${err.message}; kept ${before ?? 'the feature unbound'}`);
      }
    }
  }
  return { bindings: build(), problems };
}

function valueOf(attributes: readonly Attribute[], name: string): string | undefined {
  const value = attributes.find((a) => a.name === name)?.value;
  return value === undefined ? undefined : value.trim();
}

/**
 * The keypad bindings of a caller who dialed into `didGroupId` and joined
 * `room`: the role strings and bindings read from the store, 001's
 * `mute_non_moderator` from the call's resolved attributes (so its call
 * flow, DID and room levels and its boolean spellings count as everywhere
 * else), every problem logged.
 */
export function keypadBindingsForRoom(
  store: Pick<ConferenceStore, 'getDidGroup'>,
  didGroupId: number,
  room: Pick<MeetingRoom, 'attributes'>,
  attributes: Pick<ResolvedAttributes, 'isOn'>,
  logger: Logger,
): KeypadBinding[] {
  const didGroup = store.getDidGroup(didGroupId)?.attributes ?? [];
  // 001's mute_non_moderator: *1 for hosts only.
  const { bindings, problems } = keypadBindingsFor({ didGroup, room: room.attributes }, { muteNonModerator: attributes.isOn('mute_non_moderator') });
  for (const problem of problems) logger.warn({ problem }, 'keypad attribute not applied');
  return bindings;
}
