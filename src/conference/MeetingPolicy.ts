/**
 * Who hears whom, as a pure function of a participant's state. Every change
 * of role, mute or deaf goes through here so the rules live in one place.
 */
import type { Role } from './Role.js';
import { roleCanSpeak } from './Role.js';

export interface ParticipantAudioState {
  role: Role;
  muted: boolean;
  deaf: boolean;
  /**
   * The phone has put the bridge on hold (sendonly, inactive or c=0.0.0.0):
   * what it sends then is its own music on hold, which must never reach the
   * room. Kept apart from `muted` so that mute state is the caller's own.
   */
  phoneHold: boolean;
}

export interface Membership {
  speak: boolean;
  hear: boolean;
}

export function membershipFor(state: ParticipantAudioState): Membership {
  return {
    // A listener is never heard, whatever else is set.
    speak: roleCanSpeak(state.role) && !state.muted && !state.phoneHold,
    hear: !state.deaf,
  };
}

/**
 * Seed 004's `gainLevel` of a call, in steps of 3 dB from -4 (-12 dB) to +4
 * (+12 dB), like the volume levels of FreeSWITCH's conference keypad. It is
 * applied to what the caller says (the leg's input gain), so an operator can
 * bring a quiet or loud talker to the level of the others.
 */
export const GAIN_LEVEL_MIN = -4;
export const GAIN_LEVEL_MAX = 4;
export const GAIN_LEVEL_STEP_DB = 3;

export function isGainLevel(level: number): boolean {
  return Number.isInteger(level) && level >= GAIN_LEVEL_MIN && level <= GAIN_LEVEL_MAX;
}

/** The input gain in dB for a gain level; throws on a level outside the range. */
export function gainDbForLevel(level: number): number {
  if (!isGainLevel(level)) throw new RangeError(`gain level must be an integer within [${GAIN_LEVEL_MIN}, ${GAIN_LEVEL_MAX}]`);
  return level * GAIN_LEVEL_STEP_DB;
}

/** Whether a room attribute switches a feature on (seed 004 `on`/`off` values). */
export function attributeIsOn(attributes: ReadonlyArray<{ name: string; value: string }>, name: string): boolean {
  return attributes.find((a) => a.name === name)?.value.trim().toLowerCase() === 'on';
}
