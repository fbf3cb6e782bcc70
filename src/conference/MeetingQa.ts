import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { ChangeSource } from './ConferenceTypes.js';
import type { Meeting } from './Meeting.js';
import type { MeetingQaEvents, QaMode, RaiseHandResult } from './MeetingQaTypes.js';
import { QA_ACTIVE, QA_CLEARED, QA_OFF, QA_TALKING } from './MeetingQaTypes.js';
import type { Participant } from './Participant.js';
import type { Role } from './Role.js';

/** What Q&A needs of its meeting; a `Meeting` in the product. */
export type QaMeeting = Pick<Meeting, 'participants' | 'updateParticipant' | 'on'>;

const ROLE_LETTERS: Record<Role, string> = { host: 'h', participant: 'p', listener: 'l' };

/** Seed 004's example policy: participants are muted, hosts keep talking (listeners never talk). */
export const DEFAULT_QA_POLICY = 'p';

/**
 * The roles a room's `conference_qa_policy` mutes during Q&A; the default
 * when it is unset, and also when it holds anything but `h`, `p`, `l`.
 */
export function qaPolicyOf(attributes: ReadonlyArray<{ name: string; value: string }>): string {
  const value = attributes.find((a) => a.name === 'conference_qa_policy')?.value.trim().toLowerCase();
  return value !== undefined && /^[hpl]*$/.test(value) ? value : DEFAULT_QA_POLICY;
}

/**
 * A meeting's question-and-answer session (seed 004 `qaMode`,
 * `conference_qa_policy`). Starting it mutes the policy's roles, remembering
 * each one's mute state; a muted caller raises a hand to join the question
 * queue; "next" gives the floor to the first in the queue (unmuted) and
 * mutes the previous questioner again; "clear" empties the queue; stopping
 * gives everyone Q&A muted their mute state from before. Callers who join
 * during Q&A are muted on the way in if their role is in the policy.
 *
 * Pure state over the meeting's participants: it changes mute through
 * `Meeting.updateParticipant`, so media and the callers' own "you are
 * muted" prompts follow as for any other mute.
 */
export class MeetingQa extends EventEmitter<MeetingQaEvents> {
  private modeValue: QaMode = QA_OFF;
  /** Each caller under Q&A, by participant id, with the mute state to give back on stop. */
  private readonly mutedBefore = new Map<number, boolean>();
  private readonly queueValue: Participant[] = [];
  private questionerValue: Participant | undefined;

  constructor(
    private readonly meeting: QaMeeting,
    /** Roles muted while Q&A runs, as seed 004 writes them (`p`, `pl`, ...). */
    private readonly policyRoles: string,
    private readonly logger: Logger,
  ) {
    super();
    meeting.on('participantJoined', (p) => this.onJoined(p));
    meeting.on('participantLeft', (p) => this.onLeft(p));
    meeting.on('ended', () => this.reset());
  }

  get mode(): QaMode {
    return this.modeValue;
  }

  get active(): boolean {
    return this.modeValue !== QA_OFF;
  }

  /** The raised hands, first to be taken first. */
  get queue(): readonly Participant[] {
    return [...this.queueValue];
  }

  /** The caller who has the floor, if any. */
  get questioner(): Participant | undefined {
    return this.questionerValue;
  }

  /** Whether Q&A holds this caller muted (their role is in the policy and they do not have the floor). */
  holdsMuted(participant: Participant): boolean {
    return this.active && this.mutedBefore.has(participant.id) && this.questionerValue !== participant;
  }

  /** Starts Q&A; false if it already runs. */
  start(by: ChangeSource = 'host'): boolean {
    if (this.active) return false;
    this.setMode(QA_ACTIVE);
    const muted = this.meeting.participants.filter((p) => this.underPolicy(p)).filter((p) => this.muteOnEntry(p, by));
    this.logger.info({ policy: this.policyRoles, muted: muted.length, by }, 'Q&A started');
    this.emit('qaStarted', muted);
    return true;
  }

  /** Stops Q&A and gives back the mute states from before; false if it was not running. */
  stop(by: ChangeSource = 'host'): boolean {
    if (!this.active) return false;
    const before = new Map(this.mutedBefore);
    this.reset();
    for (const participant of this.meeting.participants) {
      const muted = before.get(participant.id);
      if (muted !== undefined && participant.muted !== muted) this.meeting.updateParticipant(participant, { muted }, by);
    }
    this.logger.info({ by }, 'Q&A stopped');
    this.emit('qaStopped');
    return true;
  }

  /** Puts a caller Q&A holds muted at the end of the question queue. */
  raiseHand(participant: Participant): RaiseHandResult {
    if (!this.active) return { ok: false, reason: 'qaNotActive' };
    if (this.questionerValue === participant) return { ok: false, reason: 'onTheFloor' };
    if (!this.mutedBefore.has(participant.id)) return { ok: false, reason: 'notMutedByQa' };
    if (this.queueValue.includes(participant)) return { ok: false, reason: 'alreadyQueued' };
    this.queueValue.push(participant);
    const position = this.queueValue.length;
    if (this.modeValue === QA_CLEARED) this.setMode(QA_ACTIVE);
    this.logger.info({ callId: participant.callId, participantId: participant.id, position }, 'question queued');
    this.emit('questionQueued', participant, position);
    return { ok: true, position };
  }

  /** Takes a caller out of the queue; false if they were not in it. */
  lowerHand(participant: Participant): boolean {
    const index = this.queueValue.indexOf(participant);
    if (index < 0) return false;
    this.queueValue.splice(index, 1);
    this.logger.info({ callId: participant.callId, participantId: participant.id }, 'question withdrawn');
    this.emit('questionWithdrawn', participant);
    return true;
  }

  /**
   * Mutes the current questioner again and gives the floor to the first
   * caller in the queue, unmuted. Returns that caller, or undefined when the
   * queue is empty (the floor is then nobody's) or Q&A is not running.
   */
  next(by: ChangeSource = 'host'): Participant | undefined {
    if (!this.active) return undefined;
    this.releaseFloor(by);
    const taken = this.queueValue.shift();
    if (!taken) {
      this.setMode(QA_ACTIVE);
      return undefined;
    }
    this.questionerValue = taken;
    this.setMode(QA_TALKING);
    if (taken.muted) this.meeting.updateParticipant(taken, { muted: false }, by);
    this.logger.info({ callId: taken.callId, participantId: taken.id, waiting: this.queueValue.length }, 'question taken');
    this.emit('questionTaken', taken);
    return taken;
  }

  /** Empties the queue and mutes the questioner again; returns the callers dropped from the queue. */
  clear(by: ChangeSource = 'host'): Participant[] {
    if (!this.active) return [];
    this.releaseFloor(by);
    const dropped = this.queueValue.splice(0);
    this.setMode(QA_CLEARED);
    this.logger.info({ dropped: dropped.length, by }, 'Q&A queue cleared');
    this.emit('qaCleared', dropped);
    return dropped;
  }

  private releaseFloor(by: ChangeSource): void {
    const previous = this.questionerValue;
    this.questionerValue = undefined;
    if (previous && !previous.muted) this.meeting.updateParticipant(previous, { muted: true }, by);
  }

  private underPolicy(participant: Participant): boolean {
    return this.policyRoles.includes(ROLE_LETTERS[participant.role]);
  }

  /** Remembers a caller's mute state and mutes them; true if this muted them. */
  private muteOnEntry(participant: Participant, by: ChangeSource): boolean {
    this.mutedBefore.set(participant.id, participant.muted);
    if (participant.muted) return false;
    return this.meeting.updateParticipant(participant, { muted: true }, by);
  }

  private onJoined(participant: Participant): void {
    if (this.active && this.underPolicy(participant)) this.muteOnEntry(participant, 'host');
  }

  private onLeft(participant: Participant): void {
    this.mutedBefore.delete(participant.id);
    this.lowerHand(participant);
    if (this.questionerValue === participant) {
      this.questionerValue = undefined;
      if (this.active) this.setMode(QA_ACTIVE);
    }
  }

  private reset(): void {
    this.mutedBefore.clear();
    this.queueValue.splice(0);
    this.questionerValue = undefined;
    this.setMode(QA_OFF);
  }

  private setMode(mode: QaMode): void {
    if (this.modeValue === mode) return;
    this.modeValue = mode;
    this.emit('qaModeChanged', mode);
  }
}
