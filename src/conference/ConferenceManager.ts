import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { MediaEngine } from '../media/MediaEngine.js';
import type { MeetingRoom } from '../store/StoreTypes.js';
import type { ConferenceManagerEvents, JoinPolicy, JoinRequest, MeetingSounds } from './ConferenceTypes.js';
import { MeetingFullError } from './ConferenceTypes.js';
import { Meeting } from './Meeting.js';
import { admissionRefusal, NO_LIMITS, OPEN_MEETING } from './MeetingRules.js';
import { MeetingSupervisor } from './MeetingSupervisor.js';
import type { Participant } from './Participant.js';
import type { Role } from './Role.js';

/** What `join` gives the call flow. */
export interface Joined {
  meeting: Meeting;
  participant: Participant;
  /** The caller waits (on hold, with music) for the meeting to start. */
  waiting: boolean;
}

const NO_SOUNDS: MeetingSounds = { holdMusic: () => [], entryTone: () => [], exitTone: () => [] };

/**
 * The live meetings, one per meeting room at most. A meeting starts with its
 * first participant and is forgotten when it ends. Each has a
 * MeetingSupervisor carrying out its start and stop rules.
 */
export class ConferenceManager extends EventEmitter<ConferenceManagerEvents> {
  private readonly meetingsByNumber = new Map<number, Meeting>();
  private readonly supervisors = new Map<Meeting, MeetingSupervisor>();
  private lastParticipantId = 0;

  constructor(
    private readonly media: MediaEngine,
    private readonly logger: Logger,
    /** Hold music and entry/exit tones, supplied by the call-flow layer. */
    private readonly sounds?: MeetingSounds,
  ) {
    super();
  }

  get meetings(): Meeting[] {
    return [...this.meetingsByNumber.values()];
  }

  getMeeting(meetingNumber: number): Meeting | undefined {
    return this.meetingsByNumber.get(meetingNumber);
  }

  /**
   * Puts a caller into the room's live meeting, starting it if needed.
   * Throws MeetingLockedError (locked, caller not a host) or
   * MeetingFullError (a limit of `policy` reached); nothing changes then.
   * Without a policy the meeting is open: no limits, starts with anyone.
   */
  join(room: MeetingRoom, request: JoinRequest, policy?: JoinPolicy): Joined {
    const existing = this.meetingsByNumber.get(room.meetingNumber);
    // A locked meeting's refusal comes first, from the meeting itself.
    if (!(existing?.locked && request.role !== 'host')) {
      const counts = existing ? countRoles(existing) : { host: 0, participant: 0, listener: 0 };
      if (admissionRefusal({ role: request.role, locked: false, counts, limits: policy?.limits ?? NO_LIMITS })) {
        throw new MeetingFullError(`meeting ${room.meetingNumber} is full`);
      }
    }
    const meeting = existing ?? this.startMeeting(room, policy);
    const supervisor = this.supervisors.get(meeting)!;
    const waiting = supervisor.wouldWait(request.role);
    const entry = waiting ? { ...request.entry, held: true } : request.entry;
    try {
      const participant = meeting.join({ ...request, ...(entry ? { entry } : {}) });
      return { meeting, participant, waiting: supervisor.isWaiting(participant) };
    } catch (err) {
      // A meeting started for a join that failed would live on empty.
      if (!existing) meeting.end();
      throw err;
    }
  }

  /** Starts a meeting whose callers wait for it (conference_start_how explicit or moderator). False when there is no such meeting. */
  startMeetingNow(meetingNumber: number): boolean {
    const meeting = this.meetingsByNumber.get(meetingNumber);
    if (!meeting) return false;
    this.supervisors.get(meeting)?.start();
    return true;
  }

  /** Whether the meeting has started (its callers no longer wait for a host or a command). */
  isStarted(meeting: Meeting): boolean {
    return this.supervisors.get(meeting)?.started ?? false;
  }

  /** Ends every live meeting, for shutdown. */
  endAll(): void {
    for (const meeting of this.meetingsByNumber.values()) meeting.end();
  }

  private startMeeting(room: MeetingRoom, policy: JoinPolicy | undefined): Meeting {
    const logger = this.logger.child({ meetingNumber: room.meetingNumber });
    const sounds = this.sounds ?? NO_SOUNDS;
    const meeting = new Meeting(room, this.media.createRoom(), () => ++this.lastParticipantId, logger, sounds, policy?.joinNotifications, policy?.qaPolicy);
    const rules = policy?.rules ?? OPEN_MEETING;
    this.meetingsByNumber.set(room.meetingNumber, meeting);
    this.supervisors.set(meeting, new MeetingSupervisor(meeting, rules, sounds, logger));
    meeting.once('ended', () => {
      this.meetingsByNumber.delete(room.meetingNumber);
      this.supervisors.delete(meeting);
      this.emit('meetingEnded', meeting);
    });
    logger.info({ startHow: rules.startHow, stopHow: rules.stopHow }, 'meeting started');
    this.emit('meetingStarted', meeting);
    return meeting;
  }
}

function countRoles(meeting: Meeting): Record<Role, number> {
  const counts: Record<Role, number> = { host: 0, participant: 0, listener: 0 };
  for (const p of meeting.participants) counts[p.role]++;
  return counts;
}
