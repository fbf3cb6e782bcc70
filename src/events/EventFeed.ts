/**
 * The bridge's live event feed: one ordered stream of what happens in the
 * meetings (seed 003's participant events plus meeting-level ones), each
 * event numbered and stamped once, then handed to every listener (the
 * WebSocket feed, webhooks). Listeners must not block: they get the event
 * synchronously and queue their own delivery.
 */
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { Meeting } from '../conference/Meeting.js';
import type { Participant } from '../conference/Participant.js';
import type { Logger } from '../log.js';
import type { DtmfEvent, TalkingEvent } from '../media/MediaTypes.js';

/** Seed 003's participant event names, then the meeting-level events of this bridge. */
export const EVENT_NAMES = [
  'add-member',
  'del-member',
  'start-talking',
  'stop-talking',
  'mute-member',
  'unmute-member',
  'deaf-member',
  'undeaf-member',
  'hold-member',
  'unhold-member',
  'dtmf',
  'keypad-command',
  'meeting-start',
  'meeting-end',
  'lock',
  'unlock',
  'hold-meeting',
  'unhold-meeting',
  'qa-start',
  'qa-stop',
  'qa-hand-raised',
  'qa-hand-lowered',
  'qa-next',
  'qa-clear',
  'recording-start',
  'recording-stop',
] as const;

/** Events the conference layer does not emit itself; whoever acts reports them (see `report`). */
export type ReportedEventName = 'keypad-command' | 'recording-start' | 'recording-stop';

export type EventName = (typeof EVENT_NAMES)[number];

export interface BridgeEvent {
  /** Increases by one for every event the bridge publishes; a filtered stream has gaps. */
  seq: number;
  /** Milliseconds since the epoch (seed 004's time unit). */
  timestamp: number;
  event: EventName;
  meetingNumber: number;
  /** The live meeting instance (seed 004 Meeting `id`). */
  meetingId: number;
  /** Set on participant events (seed 003 field names). */
  participant_id?: number;
  call_id?: string;
  caller_id_number?: string;
  /** Extra facts of the event: `by` (self, host, operator), `energy_level`, `digit`… */
  data?: Record<string, unknown>;
}

/** Who owns the room an event belongs to; used to show each subscriber only their rooms' events. */
export interface EventScope {
  meetingNumber: number;
  /** The room owner (null for rooms provisioned from configuration). */
  subscriberSid: string | null;
}

export type EventListener = (event: BridgeEvent, scope: EventScope) => void;

interface Tracked {
  deaf: boolean;
  /** dBFS of the frame that started or ended the last talk spurt; null before the first. */
  energy: number | null;
  detach: () => void;
}

export class EventFeed {
  private lastSeq = 0;
  private readonly listeners = new Set<EventListener>();
  private readonly participants = new Map<Participant, Tracked>();
  private readonly meetingDetachers = new Map<Meeting, () => void>();

  constructor(
    conference: ConferenceManager,
    private readonly logger: Logger,
  ) {
    conference.on('meetingStarted', (meeting) => this.attachMeeting(meeting));
    conference.on('meetingEnded', (meeting) => {
      this.publish(meeting, 'meeting-end', undefined, { duration: Math.floor((Date.now() - meeting.createdAt.getTime()) / 1000) });
      this.meetingDetachers.get(meeting)?.();
      this.meetingDetachers.delete(meeting);
    });
    // A feed built while meetings are live picks them up from here on.
    for (const meeting of conference.meetings) this.attachMeeting(meeting, false);
  }

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * The conference layer reports no deaf change, so whoever changes a
   * participant's state (the API) calls this afterwards; a changed deaf flag
   * becomes `deaf-member` / `undeaf-member`.
   */
  participantUpdated(meeting: Meeting, participant: Participant, by = 'operator'): void {
    const tracked = this.participants.get(participant);
    if (!tracked || tracked.deaf === participant.deaf) return;
    tracked.deaf = participant.deaf;
    this.publish(meeting, participant.deaf ? 'deaf-member' : 'undeaf-member', participant, { by });
  }

  /** Seed 003's `talking` and `energy_level` of a participant in a live meeting. */
  voice(participant: Participant): { talking: boolean; energy: number | null } | undefined {
    const tracked = this.participants.get(participant);
    if (!tracked) return undefined;
    return { talking: participant.leg.talking, energy: tracked.energy };
  }

  /**
   * Publishes what the conference layer has no event for yet: a keypad
   * command a participant used (`data.command`, e.g. `mute`, `lock`), Q&A
   * and recording changes. The keypad and API code call this after acting.
   */
  report(meeting: Meeting, event: ReportedEventName, participant?: Participant, data?: Record<string, unknown>): void {
    this.publish(meeting, event, participant, data);
  }

  private attachMeeting(meeting: Meeting, announce = true): void {
    if (this.meetingDetachers.has(meeting)) return;
    if (announce) this.publish(meeting, 'meeting-start');
    const onJoined = (p: Participant): void => this.attachParticipant(meeting, p);
    const onLeft = (p: Participant): void => {
      this.participants.get(p)?.detach();
      this.participants.delete(p);
      this.publish(meeting, 'del-member', p, { duration: Math.floor((Date.now() - p.joinedAt.getTime()) / 1000) });
    };
    const onLock = (locked: boolean): void => this.publish(meeting, locked ? 'lock' : 'unlock');
    const onHold = (held: boolean): void => this.publish(meeting, held ? 'hold-meeting' : 'unhold-meeting');
    meeting.on('participantJoined', onJoined);
    meeting.on('participantLeft', onLeft);
    meeting.on('lockChanged', onLock);
    meeting.on('holdChanged', onHold);
    const qa = meeting.qa;
    const onQaStart = (): void => this.publish(meeting, 'qa-start');
    const onQaStop = (): void => this.publish(meeting, 'qa-stop');
    const onRaised = (p: Participant, position: number): void => this.publish(meeting, 'qa-hand-raised', p, { position });
    const onLowered = (p: Participant): void => this.publish(meeting, 'qa-hand-lowered', p);
    const onTaken = (p: Participant): void => this.publish(meeting, 'qa-next', p);
    const onCleared = (dropped: Participant[]): void => this.publish(meeting, 'qa-clear', undefined, { dropped: dropped.map((d) => d.id) });
    qa.on('qaStarted', onQaStart);
    qa.on('qaStopped', onQaStop);
    qa.on('questionQueued', onRaised);
    qa.on('questionWithdrawn', onLowered);
    qa.on('questionTaken', onTaken);
    qa.on('qaCleared', onCleared);
    this.meetingDetachers.set(meeting, () => {
      meeting.off('participantJoined', onJoined);
      meeting.off('participantLeft', onLeft);
      meeting.off('lockChanged', onLock);
      meeting.off('holdChanged', onHold);
      qa.off('qaStarted', onQaStart);
      qa.off('qaStopped', onQaStop);
      qa.off('questionQueued', onRaised);
      qa.off('questionWithdrawn', onLowered);
      qa.off('questionTaken', onTaken);
      qa.off('qaCleared', onCleared);
    });
    for (const p of meeting.participants) this.attachParticipant(meeting, p, false);
  }

  private attachParticipant(meeting: Meeting, p: Participant, announce = true): void {
    if (this.participants.has(p)) return;
    const onMute = (muted: boolean, by: string): void => this.publish(meeting, muted ? 'mute-member' : 'unmute-member', p, { by });
    const onHold = (held: boolean, by: string): void => this.publish(meeting, held ? 'hold-member' : 'unhold-member', p, { by });
    const onStart = (e: TalkingEvent): void => {
      tracked.energy = e.energy;
      this.publish(meeting, 'start-talking', p, { energy_level: e.energy });
    };
    const onStop = (e: TalkingEvent): void => {
      tracked.energy = e.energy;
      this.publish(meeting, 'stop-talking', p, { energy_level: e.energy });
    };
    const onDtmf = (e: DtmfEvent): void => this.publish(meeting, 'dtmf', p, { digit: e.digit, source: e.source });
    p.on('muteChanged', onMute);
    p.on('holdChanged', onHold);
    p.leg.on('talkingStarted', onStart);
    p.leg.on('talkingStopped', onStop);
    // Ahead of the keypad's listener: a key is published before what it makes happen (mute-member, keypad-command).
    p.leg.prependListener('dtmf', onDtmf);
    const tracked: Tracked = {
      deaf: p.deaf,
      energy: null,
      detach: () => {
        p.off('muteChanged', onMute);
        p.off('holdChanged', onHold);
        p.leg.off('talkingStarted', onStart);
        p.leg.off('talkingStopped', onStop);
        p.leg.off('dtmf', onDtmf);
      },
    };
    this.participants.set(p, tracked);
    if (announce) {
      this.publish(meeting, 'add-member', p, { role: p.role, muted: p.muted, deaf: p.deaf, held: p.held });
    }
  }

  private publish(meeting: Meeting, event: EventName, p?: Participant, data?: Record<string, unknown>): void {
    const out: BridgeEvent = { seq: ++this.lastSeq, timestamp: Date.now(), event, meetingNumber: meeting.meetingNumber, meetingId: meeting.id };
    if (p) {
      out.participant_id = p.id;
      out.call_id = p.callId;
      out.caller_id_number = p.caller;
    }
    if (data) out.data = data;
    const scope: EventScope = { meetingNumber: meeting.meetingNumber, subscriberSid: meeting.room.subscriberSid };
    for (const listener of this.listeners) {
      try {
        listener(out, scope);
      } catch (err) {
        // One broken listener must not keep the event from the others, nor reach the conference code.
        this.logger.error({ err, event: out.event, seq: out.seq }, 'event listener failed');
      }
    }
  }
}
