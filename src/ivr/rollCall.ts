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
 * the name: read from the caller's own attributes (`caller`, the dialed DID
 * group's and the room's), like the rest of the caller's way in.
 *
 * The onenter/onexit switches decide what the whole meeting hears, so they
 * are read from `meeting`, the meeting-wide attributes
 * (resolveMeetingAttributes: the room's primary DID group, the room, the
 * live meeting; the same rule MeetingRecorder follows): two callers who
 * dialed through different DID groups must not get the meeting different
 * announcements. Seed 004 allows the three attributes on the DID group and
 * meeting room only (never on a DID), so nothing a DID could set is lost.
 * Set on some level, a switch decides its announcement; left unset it
 * follows the recording (a name is recorded to be heard). Nothing is
 * announced when no name is recorded.
 */
export function rollCallPlan(caller: Pick<ResolvedAttributes, 'isOn' | 'get'>, meeting: Pick<ResolvedAttributes, 'isOn' | 'get'> = caller): RollCallPlan {
  const recordName = caller.isOn('conference_rollcall') || caller.isOn('announce_caller_name');
  const announce = (name: string): boolean => {
    if (!recordName) return false;
    const value = meeting.get(name);
    return value === undefined || value.trim() === '' ? true : meeting.isOn(name);
  };
  return { recordName, announceEnter: announce('conference_rollcall_onenter'), announceExit: announce('conference_rollcall_onexit') };
}

/** The prompt said after the caller's recorded name. */
export function rollCallSuffix(event: 'enter' | 'exit'): PromptName {
  return event === 'enter' ? ROLL_CALL_PROMPTS.hasJoined : ROLL_CALL_PROMPTS.hasLeft;
}
