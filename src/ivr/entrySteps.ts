/**
 * The pure decisions of a caller's way into a meeting, kept apart from
 * CallSession (which carries them out over SIP and media): which prompts
 * greet them inside, whether a PIN and a job code are asked, what a PIN
 * makes of them, and what they hear on the way out.
 */
import type { ResolvedAttributes } from '../conference/attributes/ResolvedAttributes.js';
import type { Farewell } from '../conference/MeetingLifecycle.js';
import type { Role } from '../conference/Role.js';
import type { PromptName } from './AccessCodeFlow.js';
import { sayNumber } from './sayNumber.js';

/** Debian prompt names used on the way in and out. */
export const ENTRY_PROMPTS = {
  enterCode: 'conf-getpin',
  invalidCode: 'conf-invalidpin',
  enterPin: 'confbridge-pin',
  invalidPin: 'confbridge-pin-bad',
  /** No recording asks for a job code: a beep invites the digits. */
  enterJobCode: 'beep',
  invalidJobCode: 'conf-invalid',
  transfer: 'pls-hold-while-try',
  goodbye: 'goodbye',
  locked: 'conf-locked',
  full: 'conf-full',
  waitForHost: 'conf-waitforleader',
  started: 'conf-placeintoconf',
  leaderLeft: 'conf-leaderhasleft',
} as const;

/**
 * What a caller hears on joining: "waiting for the leader" while the
 * meeting has not started; otherwise, for the roles of
 * call_announceparticipantcount, how many others are there, as MeetMe
 * says it ("you are the only person", "there is one other", "there are N
 * other participants").
 */
export function entryPrompts(input: { waiting: boolean; others: number; announceCount: boolean }): PromptName[] {
  if (input.waiting) return [ENTRY_PROMPTS.waitForHost];
  if (!input.announceCount) return [];
  if (input.others <= 0) return ['conf-onlyperson'];
  if (input.others === 1) return ['conf-onlyone'];
  return ['conf-thereare', ...sayNumber(input.others), 'conf-otherinparty'];
}

/** The last words before the bridge hangs up, by why the meeting ended. */
export const FAREWELL_PROMPTS: Readonly<Record<Farewell, PromptName[]>> = {
  leaderLeft: [ENTRY_PROMPTS.leaderLeft, ENTRY_PROMPTS.goodbye],
  timeUp: [ENTRY_PROMPTS.goodbye],
  goodbye: [ENTRY_PROMPTS.goodbye],
};

/** 001's room PINs, when the room asks for one. */
export interface RoomPins {
  pin: string;
  /** Makes the caller a host; empty when the room has none. */
  moderatorPin: string;
}

/** The PINs a caller must give after the access code, or undefined when the room asks none (001 pin, moderator_pin). */
export function roomPins(attributes: ResolvedAttributes): RoomPins | undefined {
  const pin = attributes.text('pin').trim();
  const moderatorPin = attributes.text('moderator_pin').trim();
  // 001: a moderator PIN needs a room PIN; alone it still guards the room.
  if (pin === '' && moderatorPin === '') return undefined;
  return { pin, moderatorPin };
}

/** The role a PIN gives: the moderator PIN makes a host, the room PIN keeps the key's role; undefined for a wrong PIN. */
export function roleForPin(entered: string, pins: RoomPins, keyRole: Role): Role | undefined {
  if (pins.moderatorPin !== '' && entered === pins.moderatorPin) return 'host';
  if (pins.pin !== '' && entered === pins.pin) return keyRole;
  return undefined;
}

/**
 * Failed access codes before the caller is handed on (004
 * call_operator_after): the attribute's count when set, unlimited for -1,
 * else the configured default.
 */
export function accessCodeAttempts(attributes: ResolvedAttributes, configured: number): number {
  const value = attributes.integer('call_operator_after', 0);
  if (value < 0) return Infinity;
  return value > 0 ? value : configured;
}
