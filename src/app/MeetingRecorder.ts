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
  /** How long a stopped recording may take to report its file closed; 5 s unless given. */
  closeTimeoutMs?: number;
}

/**
 * Closing a recording's file takes milliseconds; past this the engine lost
 * it (or is shutting down without reporting) and the file is given up.
 */
const CLOSE_TIMEOUT_MS = 5000;

/** What the driver adds to the policy's refusals: the file could not be opened. */
export type RecorderAnswer = RecordingAnswer | { ok: false; reason: 'failed' };

interface ActiveRecording {
  media: MediaRecording;
  meetingNumber: number;
  temporary: string;
  /** The room's owner when the recording started: its directory holds the file. */
  ownerSid: string | null;
  started: number;
  error: string | undefined;
  /** Stopped, waiting for the engine to report the file closed (CLOSE_TIMEOUT_MS). */
  closeWait: NodeJS.Timeout | undefined;
  /** Stored, or given up: nothing more happens to it. */
  settled: boolean;
  /** Marks it settled and releases close(); false when it already was. */
  settle(): boolean;
  /** Resolves once settled. */
  finished: Promise<void>;
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
  /** Recordings not yet stored or given up (running, or stopped and being closed), so that close() can wait for them. */
  private readonly unsettled = new Set<ActiveRecording>();
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

  /**
   * Stops every recording and waits for their files to be closed and
   * stored; one not reported closed within the close timeout is given up
   * (its file removed, the loss logged), so this takes a few seconds at most.
   */
  async close(): Promise<void> {
    this.options.conference.off('meetingStarted', this.onMeetingStarted);
    for (const [meeting, state] of [...this.meetings]) {
      if (state.active) this.stopMedia(meeting, state, 'meetingEnded', { by: 'operator' });
      this.forget(meeting, state);
    }
    // Any recording left over (its meeting forgotten without a stop) gets stopped and a close deadline too.
    for (const active of this.unsettled) this.stopAndWait(active);
    await Promise.all([...this.unsettled].map((active) => active.finished));
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
      let release: () => void = () => {};
      const finished = new Promise<void>((resolve) => (release = resolve));
      const active: ActiveRecording = {
        media,
        meetingNumber: meeting.meetingNumber,
        temporary,
        ownerSid,
        started: Date.now(),
        error: undefined,
        closeWait: undefined,
        settled: false,
        settle: () => {
          if (active.settled) return false;
          active.settled = true;
          if (active.closeWait) clearTimeout(active.closeWait);
          active.closeWait = undefined;
          this.unsettled.delete(active);
          release();
          return true;
        },
        finished,
      };
      this.unsettled.add(active);
      media.on('error', (err) => {
        active.error = err.message;
        logger.error({ err, meetingNumber: meeting.meetingNumber }, 'recording write failed; the meeting carries on');
      });
      media.once('recordingDone', (done) => {
        if (active.settled) {
          // Given up already (its file removed): the engine was only late.
          files.discard(active.temporary);
          logger.warn({ meetingNumber: active.meetingNumber }, 'recording reported closed after it was given up');
          return;
        }
        try {
          this.store(active, done);
        } finally {
          active.settle();
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
    this.stopAndWait(active);
    this.options.logger.info({ meetingNumber: meeting.meetingNumber, reason, by: cause.by }, 'meeting recording stopped');
    const requested = reason === 'requested';
    this.options.report?.(meeting, 'recording-stop', requested ? cause.participant : undefined, { by: requested ? cause.by : 'policy', reason });
  }

  /** Stops the recording (idempotent) and gives its file the close timeout to be reported closed. */
  private stopAndWait(active: ActiveRecording): void {
    try {
      active.media.stop();
    } catch (err) {
      // The room closing with the meeting stops the recording anyway; its recordingDone still comes.
      this.options.logger.debug({ err, meetingNumber: active.meetingNumber }, 'recording already stopping');
    }
    if (!active.settled && !active.closeWait) {
      active.closeWait = setTimeout(() => this.giveUp(active), this.options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS);
    }
  }

  /**
   * The engine never reported the file closed: without a recordingDone
   * there is no duration to store, and a half-written file nobody lists
   * must not stay on disk. It is removed, and the loss logged with the
   * meeting.
   */
  private giveUp(active: ActiveRecording): void {
    active.closeWait = undefined;
    if (!active.settle()) return;
    const { files, logger } = this.options;
    try {
      files.discard(active.temporary);
    } catch (err) {
      logger.warn({ err, meetingNumber: active.meetingNumber, file: active.temporary }, 'unfinished recording file not removed');
    }
    logger.error(
      { meetingNumber: active.meetingNumber, owner: active.ownerSid ?? '(bridge)', file: active.temporary },
      'recording file was not reported closed in time; removed, no recording stored',
    );
  }

  /**
   * The file is closed: give it its final name and store its row. Without
   * a row the file would be an orphan (unreachable in a bridge room, taken
   * for an upload in a subscriber's), so when the row cannot be written
   * the file is removed and the loss logged with the meeting.
   */
  private store(active: ActiveRecording, done: RecordingDoneEvent): RecordingRow | undefined {
    const { files, logger } = this.options;
    const { meetingNumber } = active;
    let fileName: string | undefined;
    try {
      const stamp = new Date(active.started).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      fileName = files.commit(active.ownerSid, active.temporary, `rec-${meetingNumber}-${stamp}`);
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
      const file = fileName ?? active.temporary;
      try {
        if (fileName !== undefined) files.remove(active.ownerSid, fileName);
        else files.discard(active.temporary);
      } catch (removeErr) {
        logger.warn({ err: removeErr, meetingNumber, file }, 'file of an unstored recording not removed');
      }
      logger.error({ err, meetingNumber, owner: active.ownerSid ?? '(bridge)', file }, 'recording could not be stored; its file is removed');
      return undefined;
    }
  }
}
