import type { Logger } from '../log.js';
import type { ConferenceManager } from '../conference/ConferenceManager.js';
import type { Meeting } from '../conference/Meeting.js';
import type { Participant } from '../conference/Participant.js';
import { type ResolvedAttributes, resolveMeetingAttributes } from '../conference/attributes/ResolvedAttributes.js';
import type { RecordingAnswer, RecordingPolicyAction, RecordingRequester, RecordingStopReason } from '../conference/MeetingRecordingPolicy.js';
import { MeetingRecordingPolicy, recordingRulesFrom } from '../conference/MeetingRecordingPolicy.js';
import type { ReportedEventName } from '../events/EventFeed.js';
import type { RecordingControl } from '../ivr/MeetingKeypad.js';
import type { MediaRecording } from '../media/MediaRecording.js';
import type { RecordingDoneEvent } from '../media/MediaTypes.js';
import type { Sound } from '../media/Sound.js';
import type { RecordingFiles } from '../store/RecordingFiles.js';
import type { RecordingRow, RecordingStore } from '../store/RecordingTypes.js';
import type { Attribute, ConferenceStore } from '../store/StoreTypes.js';

export interface MeetingRecorderOptions {
  conference: ConferenceManager;
  store: Pick<ConferenceStore, 'findDid' | 'getDidGroup' | 'getSubscriber'> & Pick<RecordingStore, 'addRecording'>;
  files: RecordingFiles;
  /** "conf-now-recording" in a language (seed 004 conference_language). */
  announcement(language: string): Sound[];
  /** Where recording-start and recording-stop go (the event feed). */
  report?(meeting: Meeting, event: Extract<ReportedEventName, 'recording-start' | 'recording-stop'>, participant?: Participant, data?: Record<string, unknown>): void;
  logger: Logger;
  /** The files' sample rate; 16000 (the mixer's wideband) unless given. */
  sampleRate?: 8000 | 16000;
}

/** What the driver adds to the policy's refusals: the file could not be opened. */
export type RecorderAnswer = RecordingAnswer | { ok: false; reason: 'failed' };

interface ActiveRecording {
  media: MediaRecording;
  temporary: string;
  /** The room's owner when the recording started: its directory holds the file. */
  ownerSid: string | null;
  started: number;
  error: string | undefined;
}

/** One meeting's recording state: the policy (once the first caller tells which attributes apply) and the running recording. */
interface MeetingState {
  policy: MeetingRecordingPolicy | undefined;
  /** The live meeting's attribute list the policy's rules were read from (the API replaces it on a change). */
  readFrom: readonly Attribute[] | undefined;
  language: string;
  active: ActiveRecording | undefined;
  stopWait: NodeJS.Timeout | undefined;
  detach(): void;
}

/**
 * Carries out each live meeting's MeetingRecordingPolicy: starts and stops
 * the media room's recording, tells the meeting ("conf-now-recording"),
 * reports recording-start/stop, moves the finished file into its owner's
 * directory and stores its row. A recording that cannot be written is
 * logged with the meeting, which carries on unrecorded. It is the keypad's
 * RecordingControl and the API's recorder.
 */
export class MeetingRecorder implements RecordingControl {
  private readonly meetings = new Map<Meeting, MeetingState>();
  /** Recordings stopped whose files are still being closed, so that close() can wait for their rows. */
  private readonly finishing = new Set<Promise<void>>();
  private readonly onMeetingStarted = (meeting: Meeting): void => this.attach(meeting);

  constructor(private readonly options: MeetingRecorderOptions) {
    options.conference.on('meetingStarted', this.onMeetingStarted);
    for (const meeting of options.conference.meetings) this.attach(meeting);
  }

  isRecording(meeting: Meeting): boolean {
    return this.policyOf(meeting)?.recording ?? false;
  }

  /** The live meeting's attributes changed (API): the new rules apply now (`off` stops a recording). */
  attributesChanged(meeting: Meeting): void {
    try {
      this.policyOf(meeting);
    } catch (err) {
      this.options.logger.error({ err, meetingNumber: meeting.meetingNumber }, 'recording rules could not be reread');
    }
  }

  /** Whether the meeting may be recorded at all (conference_recording not off). */
  isAllowed(meeting: Meeting): boolean {
    return this.policyOf(meeting)?.allowed ?? false;
  }

  /** The keypad's request: the caller's role decides (recording_dtmf). */
  recordingRequested(meeting: Meeting, action: 'start' | 'stop', by: Participant): RecorderAnswer {
    return this.request(meeting, action, by.role, by);
  }

  /** A start or stop request by a caller's role or an operator (the API). */
  request(meeting: Meeting, action: 'start' | 'stop', by: RecordingRequester, participant?: Participant): RecorderAnswer {
    const policy = this.policyOf(meeting);
    if (!policy) return { ok: false, reason: 'ended' };
    const decision = policy.request(action, by);
    const state = this.meetings.get(meeting)!;
    this.options.logger.info({ meetingNumber: meeting.meetingNumber, action, by, ok: decision.answer.ok, ...(decision.answer.ok ? {} : { reason: decision.answer.reason }) }, 'recording requested');
    this.perform(meeting, state, decision.actions, { by, participant });
    if (decision.answer.ok && action === 'start' && !state.active) return { ok: false, reason: 'failed' };
    return decision.answer;
  }

  /** Stops every recording and waits (a few seconds at most) for their files to be closed and stored. */
  async close(): Promise<void> {
    this.options.conference.off('meetingStarted', this.onMeetingStarted);
    for (const [meeting, state] of [...this.meetings]) {
      if (state.active) this.stopMedia(meeting, state, 'meetingEnded', { by: 'operator' });
      this.forget(meeting, state);
    }
    const pending = Promise.all([...this.finishing]);
    await Promise.race([pending, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
  }

  private attach(meeting: Meeting): void {
    if (this.meetings.has(meeting)) return;
    const onJoined = (p: Participant): void => this.feed(meeting, { type: 'joined', id: p.id, role: p.role }, { by: p.role, participant: p });
    const onLeft = (p: Participant): void => this.feed(meeting, { type: 'left', id: p.id, role: p.role }, { by: 'operator' });
    const onEnded = (): void => {
      this.feed(meeting, { type: 'meetingEnded' }, { by: 'operator' });
      const state = this.meetings.get(meeting);
      if (state) this.forget(meeting, state);
    };
    meeting.on('participantJoined', onJoined);
    meeting.on('participantLeft', onLeft);
    meeting.once('ended', onEnded);
    this.meetings.set(meeting, {
      policy: undefined,
      readFrom: undefined,
      language: 'EN',
      active: undefined,
      stopWait: undefined,
      detach: () => {
        meeting.off('participantJoined', onJoined);
        meeting.off('participantLeft', onLeft);
        meeting.off('ended', onEnded);
      },
    });
  }

  private forget(meeting: Meeting, state: MeetingState): void {
    if (state.stopWait) clearTimeout(state.stopWait);
    state.detach();
    this.meetings.delete(meeting);
  }

  /**
   * The meeting's policy, built on first need from the meeting-wide
   * attributes (the room's primary DID group and its call flow, then the
   * live meeting's copy of its room; never a caller's DID, as for every
   * meeting-wide rule).
   */
  private policyOf(meeting: Meeting): MeetingRecordingPolicy | undefined {
    const state = this.meetings.get(meeting);
    if (!state || meeting.ended) return undefined;
    if (state.policy && state.readFrom === meeting.room.attributes) return state.policy;
    state.readFrom = meeting.room.attributes;
    const attributes = this.attributesOf(meeting);
    const rules = recordingRulesFrom(attributes);
    state.language = attributes.text('conference_language', 'EN');
    if (!state.policy) state.policy = new MeetingRecordingPolicy(rules);
    else this.perform(meeting, state, state.policy.setRules(rules), { by: 'operator' });
    return state.policy;
  }

  private attributesOf(meeting: Meeting): ResolvedAttributes {
    const { store, logger } = this.options;
    return resolveMeetingAttributes({ store, room: meeting.room, logger });
  }

  private feed(meeting: Meeting, input: Parameters<MeetingRecordingPolicy['handle']>[0], cause: { by: RecordingRequester; participant?: Participant }): void {
    try {
      const state = this.meetings.get(meeting);
      // The meeting's end must reach a policy even if nobody asked for one.
      const policy = input.type === 'meetingEnded' ? state?.policy : this.policyOf(meeting);
      if (!state || !policy) {
        if (state?.active) this.stopMedia(meeting, state, 'meetingEnded', cause);
        return;
      }
      this.perform(meeting, state, policy.handle(input), cause);
    } catch (err) {
      this.options.logger.error({ err, meetingNumber: meeting.meetingNumber, input: input.type }, 'recording policy step failed');
    }
  }

  private perform(meeting: Meeting, state: MeetingState, actions: RecordingPolicyAction[], cause: { by: RecordingRequester; participant?: Participant }): void {
    for (const action of actions) {
      switch (action.type) {
        case 'start':
          this.startMedia(meeting, state, cause);
          break;
        case 'stop':
          this.stopMedia(meeting, state, action.reason, cause);
          break;
        case 'startStopWait':
          if (state.stopWait) clearTimeout(state.stopWait);
          state.stopWait = setTimeout(() => {
            state.stopWait = undefined;
            this.feed(meeting, { type: 'stopWaitOver' }, { by: 'operator' });
          }, action.ms);
          break;
        case 'cancelStopWait':
          if (state.stopWait) clearTimeout(state.stopWait);
          state.stopWait = undefined;
          break;
      }
    }
  }

  private startMedia(meeting: Meeting, state: MeetingState, cause: { by: RecordingRequester; participant?: Participant }): void {
    const { files, logger } = this.options;
    const sid = meeting.room.subscriberSid;
    const ownerSid = sid !== null && this.options.store.getSubscriber(sid) ? sid : null;
    let temporary: string | undefined;
    try {
      temporary = files.temporaryPath(ownerSid);
      const media = meeting.startRecording({ mixFile: temporary, sampleRate: this.options.sampleRate ?? 16000 });
      const active: ActiveRecording = { media, temporary, ownerSid, started: Date.now(), error: undefined };
      media.on('error', (err) => {
        active.error = err.message;
        logger.error({ err, meetingNumber: meeting.meetingNumber }, 'recording write failed; the meeting carries on');
      });
      let settle: () => void = () => {};
      const finished = new Promise<void>((resolve) => (settle = resolve));
      this.finishing.add(finished);
      media.once('recordingDone', (done) => {
        try {
          this.store(meeting.meetingNumber, active, done);
        } finally {
          this.finishing.delete(finished);
          settle();
        }
      });
      state.active = active;
    } catch (err) {
      if (temporary) files.discard(temporary);
      logger.error({ err, meetingNumber: meeting.meetingNumber }, 'recording could not start; the meeting carries on');
      state.policy?.handle({ type: 'recorderFailed' });
      return;
    }
    logger.info({ meetingNumber: meeting.meetingNumber, by: cause.by, owner: ownerSid ?? '(bridge)' }, 'meeting recording started');
    // Callers must know they are recorded.
    try {
      meeting.announce(this.options.announcement(state.language));
    } catch (err) {
      logger.warn({ err, meetingNumber: meeting.meetingNumber }, 'recording announcement failed');
    }
    this.options.report?.(meeting, 'recording-start', cause.participant, { by: cause.by });
  }

  private stopMedia(meeting: Meeting, state: MeetingState, reason: RecordingStopReason, cause: { by: RecordingRequester; participant?: Participant }): void {
    const active = state.active;
    if (!active) return;
    state.active = undefined;
    try {
      active.media.stop();
    } catch (err) {
      // The room closing with the meeting stops the recording anyway; its recordingDone still comes.
      this.options.logger.debug({ err, meetingNumber: meeting.meetingNumber }, 'recording already stopping');
    }
    this.options.logger.info({ meetingNumber: meeting.meetingNumber, reason, by: cause.by }, 'meeting recording stopped');
    const requested = reason === 'requested';
    this.options.report?.(meeting, 'recording-stop', requested ? cause.participant : undefined, { by: requested ? cause.by : 'policy', reason });
  }

  /** The file is closed: give it its final name and store its row. */
  private store(meetingNumber: number, active: ActiveRecording, done: RecordingDoneEvent): RecordingRow | undefined {
    const { files, logger } = this.options;
    try {
      const stamp = new Date(active.started).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      const fileName = files.commit(active.ownerSid, active.temporary, `rec-${meetingNumber}-${stamp}`);
      const path = files.existingPath(active.ownerSid, fileName)!;
      const row = this.options.store.addRecording({
        meetingNumber,
        subscriberSid: active.ownerSid,
        fileName,
        created: active.started,
        duration: done.durationMs,
        size: files.size(path),
        framesDropped: done.framesDropped,
        error: active.error ?? null,
      });
      logger.info({ meetingNumber, recordingId: row.id, fileName, durationMs: done.durationMs, framesDropped: done.framesDropped }, 'meeting recording stored');
      return row;
    } catch (err) {
      logger.error({ err, meetingNumber, file: active.temporary }, 'recording could not be stored');
      return undefined;
    }
  }
}
