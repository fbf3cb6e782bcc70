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
}

export interface Membership {
  speak: boolean;
  hear: boolean;
}

export function membershipFor(state: ParticipantAudioState): Membership {
  return {
    // A listener is never heard, whatever else is set.
    speak: roleCanSpeak(state.role) && !state.muted,
    hear: !state.deaf,
  };
}
