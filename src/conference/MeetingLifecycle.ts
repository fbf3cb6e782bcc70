import type { MeetingRules } from './MeetingRules.js';
import type { Role } from './Role.js';

/**
 * When a live meeting starts, who waits for it, and when it stops, as a
 * pure state machine: it is fed joins, leaves and timer expiries, and
 * answers with what its driver (MeetingSupervisor) must do. No timers or
 * media here.
 *
 * - start: with the first caller (`first`), the first host (`moderator`) or
 *   a command (`explicit`, or a host arriving in neither case matters).
 *   Until then non-hosts wait on hold with music; `startWaitMs` after the
 *   first one began waiting the meeting starts anyway.
 * - stop `moderator`: when the last host leaves while others remain, they
 *   hear that the leader has left and the meeting ends `stopWaitMs` later,
 *   unless a host comes back first. Stop `last` is the meeting's own rule
 *   (the last one out ends it).
 * - `maxDurationMs` after it was opened, the meeting ends.
 * - music while alone: the only caller in a started meeting hears music.
 */

export type LifecycleTimer = 'startWait' | 'stopWait' | 'maxDuration';

/** Why the meeting ends, so that each caller hears the right last words. */
export type Farewell = 'leaderLeft' | 'timeUp' | 'goodbye';

export type LifecycleInput =
  | { type: 'opened' }
  | { type: 'joined'; id: number; role: Role }
  | { type: 'left'; id: number; role: Role }
  | { type: 'start' }
  | { type: 'timer'; timer: LifecycleTimer };

export type LifecycleAction =
  /** Put this caller on hold with music: they wait for the meeting to start. */
  | { type: 'wait'; id: number }
  /** The meeting started: these callers stop waiting. */
  | { type: 'release'; ids: number[] }
  /** The lone caller's music on or off. */
  | { type: 'aloneMusic'; id: number; on: boolean }
  | { type: 'startTimer'; timer: LifecycleTimer; ms: number }
  | { type: 'cancelTimer'; timer: LifecycleTimer }
  /** Tell everyone left that the last host has gone. */
  | { type: 'announceLeaderLeft' }
  /** End the meeting: every caller hears the farewell and is hung up. */
  | { type: 'end'; farewell: Farewell };

export class MeetingLifecycle {
  private startedValue: boolean;
  private ended = false;
  private readonly waiting = new Set<number>();
  private readonly present = new Map<number, Role>();
  private readonly armed = new Set<LifecycleTimer>();
  private aloneWithMusic: number | undefined;

  constructor(private readonly rules: MeetingRules) {
    this.startedValue = rules.startHow === 'first';
  }

  /** Whether the meeting has started (callers hear each other). */
  get started(): boolean {
    return this.startedValue;
  }

  isWaiting(id: number): boolean {
    return this.waiting.has(id);
  }

  /** Whether a caller of `role` joining now would wait for the start. */
  wouldWait(role: Role): boolean {
    return !this.startedValue && !this.startsMeeting(role);
  }

  handle(input: LifecycleInput): LifecycleAction[] {
    if (this.ended) return [];
    switch (input.type) {
      case 'opened':
        return this.rules.maxDurationMs === undefined ? [] : [this.arm('maxDuration', this.rules.maxDurationMs)];
      case 'joined':
        return this.onJoined(input.id, input.role);
      case 'left':
        return this.onLeft(input.id, input.role);
      case 'start':
        return this.start();
      case 'timer':
        return this.onTimer(input.timer);
    }
  }

  private startsMeeting(role: Role): boolean {
    return this.rules.startHow === 'first' || (this.rules.startHow === 'moderator' && role === 'host');
  }

  private onJoined(id: number, role: Role): LifecycleAction[] {
    this.present.set(id, role);
    const actions: LifecycleAction[] = [];
    if (role === 'host' && this.armed.has('stopWait')) actions.push(this.disarm('stopWait'));
    if (!this.startedValue) {
      if (this.startsMeeting(role)) return [...actions, ...this.start()];
      if (role !== 'host') {
        this.waiting.add(id);
        actions.push({ type: 'wait', id });
        if (this.rules.startWaitMs !== undefined && !this.armed.has('startWait')) actions.push(this.arm('startWait', this.rules.startWaitMs));
      }
      return actions;
    }
    return [...actions, ...this.aloneMusic()];
  }

  private onLeft(id: number, role: Role): LifecycleAction[] {
    if (!this.present.delete(id)) return [];
    this.waiting.delete(id);
    if (this.aloneWithMusic === id) this.aloneWithMusic = undefined;
    const actions: LifecycleAction[] = [];
    const hostsLeft = [...this.present.values()].some((r) => r === 'host');
    if (this.rules.stopHow === 'moderator' && role === 'host' && !hostsLeft && this.present.size > 0) {
      if (this.rules.stopWaitMs > 0) {
        actions.push({ type: 'announceLeaderLeft' }, this.arm('stopWait', this.rules.stopWaitMs));
      } else {
        return [...actions, ...this.end('leaderLeft')];
      }
    }
    return [...actions, ...this.aloneMusic()];
  }

  private onTimer(timer: LifecycleTimer): LifecycleAction[] {
    if (!this.armed.delete(timer)) return [];
    switch (timer) {
      case 'startWait':
        return this.start();
      case 'stopWait':
        // They heard that the leader left when the wait began.
        return this.end('goodbye');
      case 'maxDuration':
        return this.end('timeUp');
    }
  }

  private start(): LifecycleAction[] {
    if (this.startedValue) return [];
    this.startedValue = true;
    const actions: LifecycleAction[] = [];
    if (this.armed.has('startWait')) actions.push(this.disarm('startWait'));
    if (this.waiting.size > 0) actions.push({ type: 'release', ids: [...this.waiting] });
    this.waiting.clear();
    return [...actions, ...this.aloneMusic()];
  }

  private end(farewell: Farewell): LifecycleAction[] {
    this.ended = true;
    const actions: LifecycleAction[] = [...this.armed].map((timer) => ({ type: 'cancelTimer' as const, timer }));
    this.armed.clear();
    actions.push({ type: 'end', farewell });
    return actions;
  }

  /** Keeps music playing to the only caller of a started meeting, and only to them. */
  private aloneMusic(): LifecycleAction[] {
    if (this.rules.musicWhileAlone === undefined || !this.startedValue) return [];
    const lone = this.present.size === 1 ? [...this.present.keys()][0] : undefined;
    if (lone === this.aloneWithMusic) return [];
    const actions: LifecycleAction[] = [];
    if (this.aloneWithMusic !== undefined) actions.push({ type: 'aloneMusic', id: this.aloneWithMusic, on: false });
    this.aloneWithMusic = lone;
    if (lone !== undefined) actions.push({ type: 'aloneMusic', id: lone, on: true });
    return actions;
  }

  private arm(timer: LifecycleTimer, ms: number): LifecycleAction {
    this.armed.add(timer);
    return { type: 'startTimer', timer, ms };
  }

  private disarm(timer: LifecycleTimer): LifecycleAction {
    this.armed.delete(timer);
    return { type: 'cancelTimer', timer };
  }
}
