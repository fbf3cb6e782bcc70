import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { MediaRoom } from '../media/MediaRoom.js';
import type { MeetingRoom } from '../store/StoreTypes.js';
import type { JoinRequest, MeetingEvents } from './ConferenceTypes.js';
import { MeetingEndedError, MeetingLockedError } from './ConferenceTypes.js';
import { Participant } from './Participant.js';
import type { Role } from './Role.js';

export interface ParticipantChanges {
  role?: Role;
  muted?: boolean;
  deaf?: boolean;
}

/**
 * A live meeting of a meeting room (seed 004's Meeting object): its
 * participants and the media room that mixes them. It exists from the first
 * join until the last participant leaves or it is ended.
 */
export class Meeting extends EventEmitter<MeetingEvents> {
  private static lastId = 0;
  /** Identifies this instance of the room's meeting (seed 004 Meeting `id`). */
  readonly id = ++Meeting.lastId;
  readonly meetingNumber: number;
  readonly room: MeetingRoom;
  readonly createdAt = new Date();
  private readonly participantsById = new Map<number, Participant>();
  private endedValue = false;
  private lockedValue = false;

  constructor(
    room: MeetingRoom,
    private readonly mediaRoom: MediaRoom,
    private readonly nextParticipantId: () => number,
    private readonly logger: Logger,
  ) {
    super();
    this.room = room;
    this.meetingNumber = room.meetingNumber;
  }

  get ended(): boolean {
    return this.endedValue;
  }

  /** A locked meeting refuses new callers who are not hosts (seed 003 lock/unlock). */
  get locked(): boolean {
    return this.lockedValue;
  }

  lock(): void {
    this.setLocked(true);
  }

  unlock(): void {
    this.setLocked(false);
  }

  private setLocked(locked: boolean): void {
    if (this.lockedValue === locked || this.endedValue) return;
    this.lockedValue = locked;
    this.logger.info({ locked }, locked ? 'meeting locked' : 'meeting unlocked');
    this.emit('lockChanged', locked);
  }

  getParticipant(id: number): Participant | undefined {
    return this.participantsById.get(id);
  }

  get participants(): Participant[] {
    return [...this.participantsById.values()];
  }

  join(request: JoinRequest): Participant {
    if (this.endedValue) throw new MeetingEndedError(`meeting ${this.meetingNumber} has ended`);
    if (this.lockedValue && request.role !== 'host') throw new MeetingLockedError(`meeting ${this.meetingNumber} is locked`);
    const participant = new Participant(this.nextParticipantId(), request);
    request.leg.join(this.mediaRoom, participant.membership);
    this.participantsById.set(participant.id, participant);
    this.logger.info(
      { callId: participant.callId, participantId: participant.id, role: participant.role, participants: this.participantsById.size },
      'participant joined',
    );
    this.emit('participantJoined', participant);
    return participant;
  }

  /** Applies role, mute or deaf changes and updates who hears whom. */
  updateParticipant(participant: Participant, changes: ParticipantChanges): void {
    if (!this.participantsById.has(participant.id)) return;
    participant.apply(changes);
    participant.leg.update(participant.membership);
  }

  /**
   * Asks the call flow to hang up a participant's call (kick, API DELETE).
   * The participant leaves once the call has ended.
   */
  kick(participant: Participant, reason = 'kicked'): void {
    if (!this.participantsById.has(participant.id)) return;
    this.logger.info({ callId: participant.callId, participantId: participant.id, reason }, 'participant kicked');
    participant.requestHangup(reason);
  }

  /** Removes a participant; the last one out ends the meeting. */
  leave(participant: Participant): void {
    if (!this.participantsById.delete(participant.id)) return;
    if (!participant.leg.closed) participant.leg.leave();
    this.logger.info(
      { callId: participant.callId, participantId: participant.id, participants: this.participantsById.size },
      'participant left',
    );
    participant.emit('left');
    this.emit('participantLeft', participant);
    if (this.participantsById.size === 0) this.end();
  }

  /** Ends the meeting: every participant is removed and the media room closed. */
  end(): void {
    if (this.endedValue) return;
    this.endedValue = true;
    for (const participant of this.participantsById.values()) {
      this.participantsById.delete(participant.id);
      if (!participant.leg.closed) participant.leg.leave();
      participant.emit('left');
      this.emit('participantLeft', participant);
    }
    this.mediaRoom.close();
    this.logger.info('meeting ended');
    this.emit('ended');
  }
}
