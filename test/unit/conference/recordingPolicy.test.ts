/**
 * The meeting recording policy without sockets: the rules read from every
 * value of conference_recording, recording_dtmf, recording_stop_how and
 * recording_stop_wait (and 001 record_enabled), and the state machine's
 * answers to joins, leaves, requests and timers.
 */
import { describe, expect, it } from 'vitest';
import { ResolvedAttributes } from '../../../src/conference/attributes/ResolvedAttributes.js';
import type { RecordingRules } from '../../../src/conference/MeetingRecordingPolicy.js';
import { DEFAULT_RECORDING_RULES, MeetingRecordingPolicy, recordingRulesFrom } from '../../../src/conference/MeetingRecordingPolicy.js';

const attrs = (values: Record<string, string>) =>
  new ResolvedAttributes({ callFlowId: 3, meetingRoom: Object.entries(values).map(([name, value]) => ({ name, value })) });
const policy = (changes: Partial<RecordingRules>) => new MeetingRecordingPolicy({ ...DEFAULT_RECORDING_RULES, ...changes });

describe('recordingRulesFrom', () => {
  it('reads on, off and auto; unset is on (allowed, on demand)', () => {
    expect(recordingRulesFrom(attrs({})).mode).toBe('on');
    expect(recordingRulesFrom(attrs({ conference_recording: 'on' })).mode).toBe('on');
    expect(recordingRulesFrom(attrs({ conference_recording: 'OFF' })).mode).toBe('off');
    expect(recordingRulesFrom(attrs({ conference_recording: 'auto' })).mode).toBe('auto');
  });

  it("takes 001's record_enabled only when conference_recording is not set", () => {
    expect(recordingRulesFrom(attrs({ record_enabled: 'false' })).mode).toBe('off');
    expect(recordingRulesFrom(attrs({ record_enabled: 'true' })).mode).toBe('on');
    expect(recordingRulesFrom(attrs({ record_enabled: 'false', conference_recording: 'auto' })).mode).toBe('auto');
  });

  it('reads the keypad roles (hosts when unset), the stop rule and the stop wait', () => {
    expect([...recordingRulesFrom(attrs({})).keypadRoles]).toEqual(['host']);
    expect([...recordingRulesFrom(attrs({ recording_dtmf: 'hp' })).keypadRoles].sort()).toEqual(['host', 'participant']);
    expect(recordingRulesFrom(attrs({})).stopHow).toBe('last');
    expect(recordingRulesFrom(attrs({ recording_stop_how: 'moderator', recording_stop_wait: '7' }))).toMatchObject({ stopHow: 'moderator', stopWaitMs: 7000 });
    expect(recordingRulesFrom(attrs({ recording_stop_wait: '-3' })).stopWaitMs).toBe(0);
  });

  it('ignores a value outside the choices (the level below keeps its say)', () => {
    expect(recordingRulesFrom(attrs({ conference_recording: 'sometimes' })).mode).toBe('on');
  });
});

describe('MeetingRecordingPolicy: starting', () => {
  it('on: nothing starts by itself; an allowed request starts it and everyone is told', () => {
    const p = policy({ mode: 'on' });
    expect(p.handle({ type: 'joined', id: 1, role: 'host' })).toEqual([]);
    expect(p.request('start', 'host')).toEqual({ answer: { ok: true }, actions: [{ type: 'start', announce: true }] });
    expect(p.recording).toBe(true);
    expect(p.request('start', 'host').answer).toEqual({ ok: false, reason: 'alreadyRecording' });
  });

  it('auto: starts with the first caller, once; a stopped recording stays stopped', () => {
    const p = policy({ mode: 'auto' });
    expect(p.handle({ type: 'joined', id: 1, role: 'participant' })).toEqual([{ type: 'start', announce: true }]);
    expect(p.handle({ type: 'joined', id: 2, role: 'host' })).toEqual([]);
    expect(p.request('stop', 'host').actions).toEqual([{ type: 'stop', reason: 'requested' }]);
    expect(p.handle({ type: 'joined', id: 3, role: 'participant' })).toEqual([]);
    expect(p.recording).toBe(false);
    // It may be started again on demand.
    expect(p.request('start', 'operator').answer.ok).toBe(true);
  });

  it('off: every request is refused, the operator included, and nothing starts', () => {
    const p = policy({ mode: 'off' });
    expect(p.allowed).toBe(false);
    expect(p.handle({ type: 'joined', id: 1, role: 'host' })).toEqual([]);
    expect(p.request('start', 'host')).toEqual({ answer: { ok: false, reason: 'disabled' }, actions: [] });
    expect(p.request('start', 'operator').answer).toEqual({ ok: false, reason: 'disabled' });
    expect(p.request('stop', 'operator').answer).toEqual({ ok: false, reason: 'disabled' });
  });

  it('recording_dtmf decides which roles may use the keypad; an operator always may', () => {
    const hostsOnly = policy({ keypadRoles: new Set(['host']) });
    expect(hostsOnly.request('start', 'participant').answer).toEqual({ ok: false, reason: 'notAllowed' });
    expect(hostsOnly.request('start', 'listener').answer).toEqual({ ok: false, reason: 'notAllowed' });
    expect(hostsOnly.request('start', 'operator').answer.ok).toBe(true);
    expect(hostsOnly.request('stop', 'participant').answer).toEqual({ ok: false, reason: 'notAllowed' });
    const everyone = policy({ keypadRoles: new Set(['host', 'participant', 'listener']) });
    expect(everyone.request('start', 'listener').answer.ok).toBe(true);
    const nobody = policy({ keypadRoles: new Set() });
    expect(nobody.request('start', 'host').answer).toEqual({ ok: false, reason: 'notAllowed' });
  });

  it('refuses to stop what is not recording', () => {
    expect(policy({}).request('stop', 'operator').answer).toEqual({ ok: false, reason: 'notRecording' });
  });
});

describe('MeetingRecordingPolicy: stopping', () => {
  it('last: hosts leaving change nothing; the meeting end stops it', () => {
    const p = policy({ stopHow: 'last', stopWaitMs: 5000 });
    p.handle({ type: 'joined', id: 1, role: 'host' });
    p.handle({ type: 'joined', id: 2, role: 'participant' });
    p.request('start', 'host');
    expect(p.handle({ type: 'left', id: 1, role: 'host' })).toEqual([]);
    expect(p.recording).toBe(true);
    expect(p.handle({ type: 'meetingEnded' })).toEqual([{ type: 'stop', reason: 'meetingEnded' }]);
    expect(p.request('start', 'operator').answer).toEqual({ ok: false, reason: 'ended' });
  });

  it('moderator: the last host leaving starts the stop wait; its end stops the recording', () => {
    const p = policy({ stopHow: 'moderator', stopWaitMs: 3000 });
    p.handle({ type: 'joined', id: 1, role: 'host' });
    p.handle({ type: 'joined', id: 2, role: 'host' });
    p.handle({ type: 'joined', id: 3, role: 'participant' });
    p.request('start', 'host');
    expect(p.handle({ type: 'left', id: 1, role: 'host' })).toEqual([]);
    expect(p.handle({ type: 'left', id: 2, role: 'host' })).toEqual([{ type: 'startStopWait', ms: 3000 }]);
    expect(p.recording).toBe(true);
    expect(p.handle({ type: 'stopWaitOver' })).toEqual([{ type: 'stop', reason: 'hostLeft' }]);
    expect(p.recording).toBe(false);
    expect(p.handle({ type: 'stopWaitOver' })).toEqual([]);
  });

  it('moderator: a host coming back within the stop wait keeps it recording', () => {
    const p = policy({ stopHow: 'moderator', stopWaitMs: 3000 });
    p.handle({ type: 'joined', id: 1, role: 'host' });
    p.handle({ type: 'joined', id: 2, role: 'participant' });
    p.request('start', 'operator');
    expect(p.handle({ type: 'left', id: 1, role: 'host' })).toEqual([{ type: 'startStopWait', ms: 3000 }]);
    expect(p.handle({ type: 'joined', id: 4, role: 'host' })).toEqual([{ type: 'cancelStopWait' }]);
    expect(p.handle({ type: 'stopWaitOver' })).toEqual([]);
    expect(p.recording).toBe(true);
  });

  it('moderator with no stop wait stops at once; not recording, nothing happens', () => {
    const p = policy({ stopHow: 'moderator', stopWaitMs: 0 });
    p.handle({ type: 'joined', id: 1, role: 'host' });
    p.handle({ type: 'joined', id: 2, role: 'participant' });
    p.request('start', 'host');
    expect(p.handle({ type: 'left', id: 1, role: 'host' })).toEqual([{ type: 'stop', reason: 'hostLeft' }]);
    const idle = policy({ stopHow: 'moderator', stopWaitMs: 0 });
    idle.handle({ type: 'joined', id: 1, role: 'host' });
    idle.handle({ type: 'joined', id: 2, role: 'participant' });
    expect(idle.handle({ type: 'left', id: 1, role: 'host' })).toEqual([]);
  });

  it('a request to stop during the stop wait cancels the timer; the meeting end too', () => {
    const p = policy({ stopHow: 'moderator', stopWaitMs: 3000 });
    p.handle({ type: 'joined', id: 1, role: 'host' });
    p.handle({ type: 'joined', id: 2, role: 'participant' });
    p.request('start', 'operator');
    p.handle({ type: 'left', id: 1, role: 'host' });
    expect(p.request('stop', 'operator').actions).toEqual([{ type: 'cancelStopWait' }, { type: 'stop', reason: 'requested' }]);
    const q = policy({ stopHow: 'moderator', stopWaitMs: 3000 });
    q.handle({ type: 'joined', id: 1, role: 'host' });
    q.handle({ type: 'joined', id: 2, role: 'participant' });
    q.request('start', 'operator');
    q.handle({ type: 'left', id: 1, role: 'host' });
    expect(q.handle({ type: 'meetingEnded' })).toEqual([{ type: 'cancelStopWait' }, { type: 'stop', reason: 'meetingEnded' }]);
  });

  it('a recorder failure ends the recording state; it may be started again', () => {
    const p = policy({});
    p.request('start', 'operator');
    expect(p.handle({ type: 'recorderFailed' })).toEqual([]);
    expect(p.recording).toBe(false);
    expect(p.request('start', 'operator').answer.ok).toBe(true);
  });

  it('new rules mid-meeting: off stops a running recording and refuses from then on; leaving moderator drops the stop wait', () => {
    const p = policy({ stopHow: 'moderator', stopWaitMs: 3000 });
    p.handle({ type: 'joined', id: 1, role: 'host' });
    p.handle({ type: 'joined', id: 2, role: 'participant' });
    p.request('start', 'operator');
    p.handle({ type: 'left', id: 1, role: 'host' });
    expect(p.setRules({ ...DEFAULT_RECORDING_RULES, stopHow: 'last' })).toEqual([{ type: 'cancelStopWait' }]);
    expect(p.handle({ type: 'stopWaitOver' })).toEqual([]);
    expect(p.recording).toBe(true);
    expect(p.setRules({ ...DEFAULT_RECORDING_RULES, mode: 'off' })).toEqual([{ type: 'stop', reason: 'disabled' }]);
    expect(p.request('start', 'operator').answer).toEqual({ ok: false, reason: 'disabled' });
    // auto set after a recording ran starts nothing by itself; on demand works again.
    expect(p.setRules({ ...DEFAULT_RECORDING_RULES, mode: 'auto' })).toEqual([]);
    expect(p.handle({ type: 'joined', id: 3, role: 'participant' })).toEqual([]);
    expect(p.request('start', 'operator').answer.ok).toBe(true);
  });
});
