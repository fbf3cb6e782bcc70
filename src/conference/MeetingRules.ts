/**
 * The meeting policies the attributes set, as plain data and pure
 * functions: when a meeting starts and stops, how long it and each call may
 * last, who may get in, and the state each role joins in. The call flow
 * reads the attributes per call (ResolvedAttributes) and hands these on.
 */
import type { ResolvedAttributes, RoleLimits } from './attributes/ResolvedAttributes.js';
import type { Role } from './Role.js';

export type StartHow = 'first' | 'moderator' | 'explicit';
export type StopHow = 'last' | 'moderator';

export interface MeetingRules {
  /** first: the first caller starts it; moderator: a host does; explicit: an operator or host command does. */
  startHow: StartHow;
  /** Start anyway this long after the first caller began waiting; undefined waits for ever. */
  startWaitMs: number | undefined;
  stopHow: StopHow;
  /** With stopHow moderator: how long the others stay after the last host left. */
  stopWaitMs: number;
  /** The meeting ends this long after it began; undefined is no limit. */
  maxDurationMs: number | undefined;
  /** Music while a caller is alone (001 music_on_hold_sound): undefined none, 'on' the configured music, else a file name. */
  musicWhileAlone: string | undefined;
}

/** The rules of a meeting that does nothing by itself: starts with anyone, ends with the last. */
export const OPEN_MEETING: MeetingRules = {
  startHow: 'first',
  startWaitMs: undefined,
  stopHow: 'last',
  stopWaitMs: 0,
  maxDurationMs: undefined,
  musicWhileAlone: undefined,
};

const seconds = (value: number): number | undefined => (value > 0 ? value * 1000 : undefined);

export function meetingRulesFrom(attributes: ResolvedAttributes): MeetingRules {
  const music = attributes.text('music_on_hold_sound').trim();
  return {
    startHow: attributes.choice<StartHow>('conference_start_how', 'first'),
    startWaitMs: seconds(attributes.integer('conference_start_wait', -1)),
    stopHow: attributes.choice<StopHow>('conference_stop_how', 'last'),
    stopWaitMs: Math.max(0, attributes.integer('conference_stop_wait', 0)) * 1000,
    maxDurationMs: seconds(attributes.integer('conference_maxduration', -1)),
    musicWhileAlone: music === '' || music.toLowerCase() === 'off' ? undefined : music,
  };
}

export interface AdmissionLimits {
  /** conference_maxcalls; -1 is no limit. */
  maxCalls: number;
  /** 001 max_members; -1 is no limit. */
  maxMembers: number;
  /** conference_maxcallsperrole. */
  perRole: RoleLimits;
}

export const NO_LIMITS: AdmissionLimits = { maxCalls: -1, maxMembers: -1, perRole: { host: -1, participant: -1, listener: -1 } };

export function admissionLimitsFrom(attributes: ResolvedAttributes): AdmissionLimits {
  return {
    maxCalls: attributes.integer('conference_maxcalls', -1),
    maxMembers: attributes.integer('max_members', -1),
    perRole: attributes.roleLimits('conference_maxcallsperrole'),
  };
}

export type Refusal = 'locked' | 'full';

/**
 * Whether a caller of `role` may join now. A locked meeting admits hosts
 * only; a full one (any limit reached) admits nobody. A limit of 0
 * admits nobody; a negative one (-1) is no limit.
 */
export function admissionRefusal(input: { role: Role; locked: boolean; counts: Readonly<Record<Role, number>>; limits: AdmissionLimits }): Refusal | undefined {
  const { role, locked, counts, limits } = input;
  if (locked && role !== 'host') return 'locked';
  const total = counts.host + counts.participant + counts.listener;
  const reached = (limit: number, count: number) => limit >= 0 && count >= limit;
  if (reached(limits.maxCalls, total) || reached(limits.maxMembers, total) || reached(limits.perRole[role], counts[role])) return 'full';
  return undefined;
}

/** How a caller enters: muted, deaf, on hold. */
export interface EntryState {
  muted: boolean;
  deaf: boolean;
  held: boolean;
}

/**
 * A role's state on entry: muted by 004's conference_mute_policy, 001's
 * mute_non_moderator (everyone but hosts) or 003's member/moderator
 * join_muted; deaf by 003's join_deaf; held by conference_hold_policy.
 */
export function entryStateFor(role: Role, attributes: ResolvedAttributes): EntryState {
  const host = role === 'host';
  return {
    muted:
      attributes.allows('conference_mute_policy', role) ||
      (!host && attributes.isOn('mute_non_moderator')) ||
      attributes.isOn(host ? 'moderator_join_muted' : 'member_join_muted'),
    deaf: attributes.isOn(host ? 'moderator_join_deaf' : 'member_join_deaf'),
    held: attributes.allows('conference_hold_policy', role),
  };
}

/**
 * The meeting's Q&A policy (conference_qa_policy: the roles Q&A mutes) when
 * some level sets it; empty otherwise, and the meeting keeps its default.
 */
export function qaPolicyFrom(attributes: Pick<ResolvedAttributes, 'get'>): { qaPolicy?: string } {
  const value = attributes.get('conference_qa_policy')?.trim().toLowerCase();
  return value === undefined || value === '' ? {} : { qaPolicy: value };
}
