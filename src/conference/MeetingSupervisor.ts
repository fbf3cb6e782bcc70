import type { Logger } from '../log.js';
import type { MeetingSounds } from './ConferenceTypes.js';
import type { Meeting } from './Meeting.js';
import type { LifecycleAction, LifecycleInput, LifecycleTimer } from './MeetingLifecycle.js';
import { MeetingLifecycle } from './MeetingLifecycle.js';
import type { MeetingRules } from './MeetingRules.js';
import type { Participant } from './Participant.js';
import type { Role } from './Role.js';

/** Long enough for every farewell prompt to play out. */
const END_GRACE_MS = 30_000;

/**
 * Carries out a meeting's MeetingLifecycle: follows its joins and leaves,
 * runs its timers, holds and releases the callers waiting for the start,
 * plays music to a lone caller, and asks every call to hang up (with its
 * farewell) when the meeting must end. It lives as long as the meeting.
 */
export class MeetingSupervisor {
  private readonly lifecycle: MeetingLifecycle;
  private readonly timers = new Map<LifecycleTimer, NodeJS.Timeout>();
  /** Ends the meeting outright if calls asked to hang up have not all gone by then. */
  private endGrace: NodeJS.Timeout | undefined;
  private readonly onJoined = (p: Participant): void => this.feed({ type: 'joined', id: p.id, role: p.role });
  private readonly onLeft = (p: Participant): void => this.feed({ type: 'left', id: p.id, role: p.role });
  private readonly onEnded = (): void => this.dispose();

  constructor(
    private readonly meeting: Meeting,
    private readonly rules: MeetingRules,
    private readonly sounds: MeetingSounds,
    private readonly logger: Logger,
  ) {
    this.lifecycle = new MeetingLifecycle(rules);
    meeting.on('participantJoined', this.onJoined);
    meeting.on('participantLeft', this.onLeft);
    meeting.once('ended', this.onEnded);
    this.feed({ type: 'opened' });
  }

  get started(): boolean {
    return this.lifecycle.started;
  }

  /** Whether a caller of `role` joining now would wait for the meeting to start. */
  wouldWait(role: Role): boolean {
    return this.lifecycle.wouldWait(role);
  }

  isWaiting(participant: Participant): boolean {
    return this.lifecycle.isWaiting(participant.id);
  }

  /** Starts the meeting now (conference_start_how explicit, or before the start wait is over). */
  start(): void {
    this.feed({ type: 'start' });
  }

  private feed(input: LifecycleInput): void {
    // A meeting being ended removes everyone: those leaves are not the lifecycle's concern.
    if (this.meeting.ended) return;
    for (const action of this.lifecycle.handle(input)) {
      try {
        this.perform(action);
      } catch (err) {
        // One caller's media failing must not stop the others' start or end.
        this.logger.warn({ err, action: action.type }, 'meeting lifecycle action failed');
      }
    }
  }

  private perform(action: LifecycleAction): void {
    switch (action.type) {
      case 'wait': {
        const p = this.meeting.getParticipant(action.id);
        if (p && !p.held) this.meeting.updateParticipant(p, { held: true }, 'operator');
        return;
      }
      case 'release':
        this.logger.info({ released: action.ids.length }, 'meeting started, waiting callers released');
        for (const id of action.ids) {
          const p = this.meeting.getParticipant(id);
          // A meeting on hold (*96) keeps them held: that hold is the host's.
          if (p && p.held && !this.meeting.held) this.meeting.updateParticipant(p, { held: false }, 'operator');
          p?.notify('meetingStarted');
        }
        return;
      case 'aloneMusic': {
        const p = this.meeting.getParticipant(action.id);
        if (!p || p.held || p.leg.closed) return;
        if (action.on) p.leg.hold(this.sounds.aloneMusic?.(this.rules.musicWhileAlone ?? 'on') ?? this.sounds.holdMusic());
        else if (p.leg.held) p.leg.unhold();
        return;
      }
      case 'startTimer':
        this.clearTimer(action.timer);
        this.timers.set(
          action.timer,
          setTimeout(() => {
            this.timers.delete(action.timer);
            this.feed({ type: 'timer', timer: action.timer });
          }, action.ms),
        );
        return;
      case 'cancelTimer':
        this.clearTimer(action.timer);
        return;
      case 'announceLeaderLeft':
        this.logger.info({ stopWaitMs: this.rules.stopWaitMs }, 'last host left, meeting ends after the stop wait');
        for (const p of this.meeting.participants) p.notify('leaderLeft');
        return;
      case 'end':
        this.logger.info({ farewell: action.farewell }, 'meeting ends by its rules');
        for (const p of this.meeting.participants) p.requestHangup(`meeting ended (${action.farewell})`, action.farewell);
        this.endGrace = setTimeout(() => this.meeting.end(), END_GRACE_MS);
        return;
    }
  }

  private clearTimer(timer: LifecycleTimer): void {
    const handle = this.timers.get(timer);
    if (handle) clearTimeout(handle);
    this.timers.delete(timer);
  }

  dispose(): void {
    for (const timer of [...this.timers.keys()]) this.clearTimer(timer);
    if (this.endGrace) clearTimeout(this.endGrace);
    this.meeting.off('participantJoined', this.onJoined);
    this.meeting.off('participantLeft', this.onLeft);
    this.meeting.off('ended', this.onEnded);
  }
}
