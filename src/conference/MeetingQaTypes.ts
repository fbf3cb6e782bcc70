import type { Participant } from './Participant.js';

/**
 * Seed 004's `qaMode` of a meeting: 0 no Q&A, 1 Q&A active with nobody on
 * the floor, 2 a questioner taken from the queue is talking, 4 the queue
 * has just been cleared (until the next hand is raised or taken).
 */
export type QaMode = 0 | 1 | 2 | 4;

export const QA_OFF: QaMode = 0;
export const QA_ACTIVE: QaMode = 1;
export const QA_TALKING: QaMode = 2;
export const QA_CLEARED: QaMode = 4;

/** Why a hand could not be raised. */
export type RaiseHandRefusal = 'qaNotActive' | 'notMutedByQa' | 'alreadyQueued' | 'onTheFloor';

export type RaiseHandResult = { ok: true; position: number } | { ok: false; reason: RaiseHandRefusal };

export interface MeetingQaEvents {
  /** Q&A started: the policy's roles are muted. */
  qaStarted: [muted: Participant[]];
  /** Q&A stopped: everyone it muted is back to their mute state from before. */
  qaStopped: [];
  /** A caller joined the question queue at this 1-based position. */
  questionQueued: [participant: Participant, position: number];
  /** A caller left the question queue without being taken (lowered the hand, hung up). */
  questionWithdrawn: [participant: Participant];
  /** The host took this caller from the queue: unmuted, the floor is theirs. */
  questionTaken: [participant: Participant];
  /** The queue was emptied (and the questioner, if any, muted again). */
  qaCleared: [dropped: Participant[]];
  /** `qaMode` changed. */
  qaModeChanged: [mode: QaMode];
}
