import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { MediaEngine } from '../media/MediaEngine.js';
import type { MeetingRoom } from '../store/StoreTypes.js';
import type { ConferenceManagerEvents, JoinRequest, MeetingSounds } from './ConferenceTypes.js';
import { Meeting } from './Meeting.js';
import type { Participant } from './Participant.js';

/**
 * The live meetings, one per meeting room at most. A meeting starts with its
 * first participant and is forgotten when it ends.
 */
export class ConferenceManager extends EventEmitter<ConferenceManagerEvents> {
  private readonly meetingsByNumber = new Map<number, Meeting>();
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

  /** Puts a caller into the room's live meeting, starting it if needed. */
  join(room: MeetingRoom, request: JoinRequest): { meeting: Meeting; participant: Participant } {
    const existing = this.meetingsByNumber.get(room.meetingNumber);
    const meeting = existing ?? this.startMeeting(room);
    try {
      return { meeting, participant: meeting.join(request) };
    } catch (err) {
      // A meeting started for a join that failed would live on empty.
      if (!existing) meeting.end();
      throw err;
    }
  }

  /** Ends every live meeting, for shutdown. */
  endAll(): void {
    for (const meeting of this.meetingsByNumber.values()) meeting.end();
  }

  private startMeeting(room: MeetingRoom): Meeting {
    const logger = this.logger.child({ meetingNumber: room.meetingNumber });
    const meeting = new Meeting(room, this.media.createRoom(), () => ++this.lastParticipantId, logger, this.sounds);
    this.meetingsByNumber.set(room.meetingNumber, meeting);
    meeting.once('ended', () => {
      this.meetingsByNumber.delete(room.meetingNumber);
      this.emit('meetingEnded', meeting);
    });
    logger.info('meeting started');
    this.emit('meetingStarted', meeting);
    return meeting;
  }
}
