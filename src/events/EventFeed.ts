/**
 * The bridge's live event feed: one ordered stream of what happens in the
 * meetings (seed 003's participant events plus meeting-level ones), each
 * event numbered and stamped once, then handed to every listener (the
 * WebSocket feed, webhooks). Listeners must not block: they get the event
 * synchronously and queue their own delivery.
 */
import type { EventEmitter } from 'node:events';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { MeetingEvents, ParticipantEvents } from '../conference/ConferenceTypes.js';
import type { MeetingQaEvents } from '../conference/MeetingQaTypes.js';
import type { Meeting } from '../conference/Meeting.js';
import type { Participant } from '../conference/Participant.js';
import type { Logger } from '../log.js';
import type { DtmfEvent, MediaLegEvents } from '../media/MediaTypes.js';

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

/** Listeners for some of an emitter's events, by event name. */
type ListenerMap<Events extends Record<keyof Events, unknown[]>> = { [K in keyof Events]?: (...args: Events[K]) => void };

/**
 * Adds each listener; the returned function removes exactly those, so what
 * is taken off cannot drift from what was put on. `Events` must be named:
 * inferred from the emitter it would type every listener's arguments `any`.
 */
function listenTo<Events extends Record<keyof Events, unknown[]>>(
  emitter: EventEmitter<NoInfer<Events>>,
  listeners: NoInfer<ListenerMap<Events>>,
): () => void {
  const untyped = emitter as unknown as EventEmitter;
  const entries = Object.entries(listeners) as Array<[string, (...args: unknown[]) => void]>;
  for (const [event, listener] of entries) untyped.on(event, listener);
  return () => {
    for (const [event, listener] of entries) untyped.off(event, listener);
  };
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
    const detachMeeting = listenTo<MeetingEvents>(meeting, {
      participantJoined: (p) => this.attachParticipant(meeting, p),
      participantLeft: (p) => {
        this.participants.get(p)?.detach();
        this.participants.delete(p);
        this.publish(meeting, 'del-member', p, { duration: Math.floor((Date.now() - p.joinedAt.getTime()) / 1000) });
      },
      lockChanged: (locked) => this.publish(meeting, locked ? 'lock' : 'unlock'),
      holdChanged: (held) => this.publish(meeting, held ? 'hold-meeting' : 'unhold-meeting'),
    });
    const detachQa = listenTo<MeetingQaEvents>(meeting.qa, {
      qaStarted: () => this.publish(meeting, 'qa-start'),
      qaStopped: () => this.publish(meeting, 'qa-stop'),
      questionQueued: (p, position) => this.publish(meeting, 'qa-hand-raised', p, { position }),
      questionWithdrawn: (p) => this.publish(meeting, 'qa-hand-lowered', p),
      questionTaken: (p) => this.publish(meeting, 'qa-next', p),
      qaCleared: (dropped) => this.publish(meeting, 'qa-clear', undefined, { dropped: dropped.map((d) => d.id) }),
    });
    this.meetingDetachers.set(meeting, () => {
      detachMeeting();
      detachQa();
    });
    for (const p of meeting.participants) this.attachParticipant(meeting, p, false);
  }

  private attachParticipant(meeting: Meeting, p: Participant, announce = true): void {
    if (this.participants.has(p)) return;
    const detachParticipant = listenTo<ParticipantEvents>(p, {
      muteChanged: (muted, by) => this.publish(meeting, muted ? 'mute-member' : 'unmute-member', p, { by }),
      holdChanged: (held, by) => this.publish(meeting, held ? 'hold-member' : 'unhold-member', p, { by }),
    });
    const detachLeg = listenTo<MediaLegEvents>(p.leg, {
      talkingStarted: (e) => {
        tracked.energy = e.energy;
        this.publish(meeting, 'start-talking', p, { energy_level: e.energy });
      },
      talkingStopped: (e) => {
        tracked.energy = e.energy;
        this.publish(meeting, 'stop-talking', p, { energy_level: e.energy });
      },
    });
    const onDtmf = (e: DtmfEvent): void => this.publish(meeting, 'dtmf', p, { digit: e.digit, source: e.source });
    // Ahead of the keypad's listener: a key is published before what it makes happen (mute-member, keypad-command).
    p.leg.prependListener('dtmf', onDtmf);
    const tracked: Tracked = {
      deaf: p.deaf,
      energy: null,
      detach: () => {
        detachParticipant();
        detachLeg();
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
