/**
 * Roll call's pure decisions: whether a caller is asked for their name and
 * when the meeting hears it (seed 004 `conference_rollcall`,
 * `conference_rollcall_onenter`, `conference_rollcall_onexit`; seed 001
 * `announce_caller_name`), and what an announcement says.
 */
import type { ResolvedAttributes } from '../conference/attributes/ResolvedAttributes.js';
import type { PromptName } from './AccessCodeFlow.js';

export interface RollCallPlan {
  /** Ask the caller to record their name before joining. */
  recordName: boolean;
  /** The meeting hears "<name> has joined". */
  announceEnter: boolean;
  /** The meeting hears "<name> has left". */
  announceExit: boolean;
}

export const ROLL_CALL_PROMPTS = {
  hasJoined: 'conf-hasjoin',
  hasLeft: 'conf-hasleft',
} as const;

/**
 * Either 004's `conference_rollcall` or 001's `announce_caller_name` asks for
 * the name. The onenter/onexit switches, when set on any level, decide each
 * announcement; left unset they follow the recording (a name is recorded to
 * be heard). Nothing is announced when no name is recorded.
 */
export function rollCallPlan(attributes: Pick<ResolvedAttributes, 'isOn' | 'get'>): RollCallPlan {
  const recordName = attributes.isOn('conference_rollcall') || attributes.isOn('announce_caller_name');
  const announce = (name: string): boolean => {
    if (!recordName) return false;
    const value = attributes.get(name);
    return value === undefined || value.trim() === '' ? true : attributes.isOn(name);
  };
  return { recordName, announceEnter: announce('conference_rollcall_onenter'), announceExit: announce('conference_rollcall_onexit') };
}

/** The prompt said after the caller's recorded name. */
export function rollCallSuffix(event: 'enter' | 'exit'): PromptName {
  return event === 'enter' ? ROLL_CALL_PROMPTS.hasJoined : ROLL_CALL_PROMPTS.hasLeft;
}
