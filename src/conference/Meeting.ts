import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { MediaRecording } from '../media/MediaRecording.js';
import type { MediaRoom } from '../media/MediaRoom.js';
import type { RecordingOptions } from '../media/MediaTypes.js';
import type { MeetingRoom } from '../store/StoreTypes.js';
import type { Sound } from '../media/Sound.js';
import type { ChangeSource, JoinRequest, MeetingEvents, MeetingSounds } from './ConferenceTypes.js';
import { MeetingEndedError, MeetingLockedError } from './ConferenceTypes.js';
import { attributeIsOn, gainDbForLevel } from './MeetingPolicy.js';
import { MeetingQa, qaPolicyOf } from './MeetingQa.js';
import { Participant } from './Participant.js';
import type { Role } from './Role.js';

export interface ParticipantChanges {
  role?: Role;
  muted?: boolean;
  deaf?: boolean;
  /** On hold: music instead of the room, not heard. */
  held?: boolean;
  /** Seed 004 gainLevel, within [GAIN_LEVEL_MIN, GAIN_LEVEL_MAX]. */
  gainLevel?: number;
  /** The phone holds the bridge: see ParticipantAudioState.phoneHold. */
  phoneHold?: boolean;
}

/** No sounds: hold is silent and there are no entry/exit tones (unit tests, tools). */
const NO_SOUNDS: MeetingSounds = { holdMusic: () => [], entryTone: () => [], exitTone: () => [] };

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
  private heldValue = false;
  private joinNotificationsValue: boolean;
  /** The meeting's Q&A session (seed 004 `qaMode`); idle until a host starts it. */
  readonly qa: MeetingQa;

  constructor(
    room: MeetingRoom,
    private readonly mediaRoom: MediaRoom,
    private readonly nextParticipantId: () => number,
    private readonly logger: Logger,
    private readonly sounds: MeetingSounds = NO_SOUNDS,
    /** Entry and exit tones at the start; the room's own attributes decide when not given. */
    joinNotifications?: boolean,
    /** The roles Q&A mutes (conference_qa_policy, meeting-wide); the room's own attribute decides when not given. */
    qaPolicy?: string,
  ) {
    super();
    this.room = room;
    this.meetingNumber = room.meetingNumber;
    // Seed 004's room attributes give the initial state; *94/*95 change it.
    this.joinNotificationsValue =
      joinNotifications ?? (attributeIsOn(room.attributes, 'conference_entrytones') || attributeIsOn(room.attributes, 'conference_exittones'));
    this.qa = new MeetingQa(this, qaPolicy ?? qaPolicyOf(room.attributes), logger);
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

  /** Meeting hold (*96, seed 004 holdMode 40): every non-host is on hold, hosts talk among themselves. */
  get held(): boolean {
    return this.heldValue;
  }

  /**
   * Puts every non-host on hold (music, not heard, not hearing the room) or
   * takes them all off it. Hosts are never touched. A non-host who joins a
   * held meeting is held too. Returns the participants whose hold changed.
   */
  setHeld(held: boolean, by: ChangeSource = 'operator'): Participant[] {
    if (this.endedValue) return [];
    if (this.heldValue !== held) {
      this.heldValue = held;
      this.logger.info({ held, by }, held ? 'meeting on hold' : 'meeting off hold');
      this.emit('holdChanged', held);
    }
    return this.participants
      .filter((p) => p.role !== 'host' && p.held !== held)
      .filter((p) => this.updateParticipant(p, { held }, by));
  }

  /**
   * Mutes (or unmutes) everyone but the hosts (001's *91/*90, seed 003's
   * bulk mute). Listeners are included so their state reads the same as the
   * others', though they are never heard anyway. Returns the participants
   * whose mute changed.
   */
  muteAllButHosts(muted: boolean, by: ChangeSource = 'operator'): Participant[] {
    if (this.endedValue) return [];
    const changed = this.participants
      .filter((p) => p.role !== 'host' && p.muted !== muted)
      .filter((p) => this.updateParticipant(p, { muted }, by));
    this.logger.info({ muted, by, changed: changed.length }, muted ? 'all but hosts muted' : 'all but hosts unmuted');
    return changed;
  }

  /** Whether everyone hears an entry tone when someone joins and an exit tone when someone leaves. */
  get joinNotifications(): boolean {
    return this.joinNotificationsValue;
  }

  setJoinNotifications(on: boolean): void {
    if (this.joinNotificationsValue === on || this.endedValue) return;
    this.joinNotificationsValue = on;
    this.logger.info({ on }, on ? 'join notifications on' : 'join notifications off');
    this.emit('joinNotificationsChanged', on);
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
    // The role's entry policies (muted, deaf, held) apply before the first packet is mixed.
    if (request.entry) participant.apply(request.entry);
    // Whoever joins a held meeting, hosts apart, waits on hold with the others.
    if (this.heldValue && request.role !== 'host') participant.apply({ held: true });
    request.leg.join(this.mediaRoom, participant.membership);
    if (participant.held) request.leg.hold(this.sounds.holdMusic());
    const others = this.participants;
    this.participantsById.set(participant.id, participant);
    this.logger.info(
      { callId: participant.callId, participantId: participant.id, role: participant.role, held: participant.held, participants: this.participantsById.size },
      'participant joined',
    );
    if (this.joinNotificationsValue) this.notify(others, this.sounds.entryTone());
    this.emit('participantJoined', participant);
    return participant;
  }

  /**
   * Applies role, mute, deaf, hold or gain changes, updates who hears whom
   * and tells the participant (`muteChanged`, `holdChanged`) what changed.
   * A role change in a held meeting moves the participant on or off hold
   * with their new role, unless `held` is given too. Returns whether the
   * participant is in this meeting (the change was applied).
   */
  updateParticipant(participant: Participant, changes: ParticipantChanges, by: ChangeSource = 'operator'): boolean {
    if (!this.participantsById.has(participant.id)) return false;
    const gainDb = changes.gainLevel === undefined ? undefined : gainDbForLevel(changes.gainLevel);
    const next = { ...changes };
    if (next.role !== undefined && next.held === undefined && this.heldValue && next.role !== participant.role) {
      next.held = next.role !== 'host';
    }
    const before = { muted: participant.muted, held: participant.held };
    participant.apply(next);
    const leg = participant.leg;
    if (!leg.closed) {
      leg.update(participant.membership);
      if (participant.held && !leg.held) leg.hold(this.sounds.holdMusic());
      else if (!participant.held && leg.held) leg.unhold();
      if (gainDb !== undefined) leg.setGain({ inDb: gainDb });
    }
    if (participant.muted !== before.muted) participant.emit('muteChanged', participant.muted, by);
    if (participant.held !== before.held) participant.emit('holdChanged', participant.held, by);
    return true;
  }

  /**
   * Plays a notification tone to these participants, skipping those hearing
   * a prompt (a tone must not cut a prompt short) and those on hold.
   */
  private notify(participants: Participant[], sounds: Sound[]): void {
    if (sounds.length === 0) return;
    for (const p of participants) {
      const leg = p.leg;
      if (leg.closed || leg.playbackId !== undefined || p.held) continue;
      try {
        leg.play(sounds, { interruptibleByDtmf: true });
      } catch (err) {
        this.logger.warn({ err, callId: p.callId }, 'notification tone failed');
      }
    }
  }

  /**
   * A spoken announcement to the whole meeting (roll call's names), queued
   * after any announcement still playing so none cuts another short. Held
   * participants do not hear it; a recording of the meeting does.
   */
  announce(sounds: Sound[]): void {
    if (this.endedValue || sounds.length === 0) return;
    this.mediaRoom.play(sounds, { queue: true });
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
    else if (this.joinNotificationsValue) this.notify(this.participants, this.sounds.exitTone());
  }

  /**
   * Records the meeting's mix (the MeetingRecorder decides when); throws a
   * MediaError when the file cannot be opened or a recording runs already.
   */
  startRecording(options: RecordingOptions): MediaRecording {
    if (this.endedValue) throw new MeetingEndedError(`meeting ${this.meetingNumber} has ended`);
    return this.mediaRoom.startRecording(options);
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
