/**
 * MeetingRecorder's file bookkeeping with a fake meeting and media
 * recording over a real data directory: a recording whose row cannot be
 * stored, or whose file the engine never reports closed, leaves no file
 * behind (no WAV without a row) and the loss is logged with the meeting.
 */
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MeetingRecorder } from '../../../src/app/MeetingRecorder.js';
import type { ConferenceManager } from '../../../src/conference/ConferenceManager.js';
import type { Meeting } from '../../../src/conference/Meeting.js';
import type { Logger } from '../../../src/log.js';
import type { RecordingDoneEvent } from '../../../src/media/MediaTypes.js';
import { RecordingFiles } from '../../../src/store/RecordingFiles.js';
import type { NewRecording, RecordingRow } from '../../../src/store/RecordingTypes.js';
import { SubscriberFiles } from '../../../src/store/SubscriberFiles.js';

const SID = 'owner-1';
let dataDir: string | undefined;

afterEach(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  dataDir = undefined;
});

/** The engine's recording: writes its file at start, reports recordingDone only when the test says so. */
class FakeRecording extends EventEmitter {
  stopped = false;
  constructor(readonly mixFile: string) {
    super();
    writeFileSync(mixFile, Buffer.alloc(44 + 320));
  }
  stop(): void {
    this.stopped = true;
  }
  done(): void {
    const event: RecordingDoneEvent = { mixFile: this.mixFile, durationMs: 20, framesDropped: 0, tracks: [] };
    this.emit('recordingDone', event);
  }
}

class FakeMeeting extends EventEmitter {
  readonly meetingNumber = 4711;
  readonly ended = false;
  readonly room = { meetingNumber: 4711, primaryDidGroupId: 1, attributes: [], subscriberSid: SID };
  recording: FakeRecording | undefined;
  startRecording(options: { mixFile: string }): FakeRecording {
    this.recording = new FakeRecording(options.mixFile);
    return this.recording;
  }
  announce(): void {}
}

function capturingLogger() {
  const lines: Array<{ level: string; fields: Record<string, unknown>; msg: string }> = [];
  const at = (level: string) => (fields: Record<string, unknown>, msg: string) => lines.push({ level, fields, msg });
  const logger = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug'), child: () => logger } as unknown as Logger;
  return { logger, lines };
}

function setUp(addRecording: (row: NewRecording) => RecordingRow) {
  dataDir = mkdtempSync(join(tmpdir(), 'recorder-'));
  const files = new RecordingFiles(new SubscriberFiles(join(dataDir, 'files')), dataDir);
  const conference = Object.assign(new EventEmitter(), { meetings: [] as Meeting[] });
  const { logger, lines } = capturingLogger();
  const recorder = new MeetingRecorder({
    conference: conference as unknown as ConferenceManager,
    store: { findDid: () => undefined, getDidGroup: () => undefined, getSubscriber: (sid: string) => (sid === SID ? ({ sid } as never) : undefined), addRecording },
    files,
    announcement: () => [],
    logger,
    closeTimeoutMs: 50,
  });
  const meeting = new FakeMeeting();
  conference.emit('meetingStarted', meeting);
  const ownerDir = join(dataDir, 'files', SID);
  return { recorder, meeting: meeting as unknown as Meeting & FakeMeeting, lines, ownerFiles: () => (existsSync(ownerDir) ? readdirSync(ownerDir) : []) };
}

describe('MeetingRecorder leaves no file without a row', () => {
  it('stores a finished recording: the file under its final name and a row naming it', async () => {
    const rows: NewRecording[] = [];
    const { recorder, meeting, ownerFiles } = setUp((row) => (rows.push(row), { id: rows.length, ...row }));
    expect(recorder.request(meeting, 'start', 'operator')).toEqual({ ok: true });
    expect(recorder.request(meeting, 'stop', 'operator')).toEqual({ ok: true });
    meeting.recording!.done();
    await recorder.close();
    expect(rows).toHaveLength(1);
    expect(ownerFiles()).toEqual([rows[0]!.fileName]);
  });

  it('removes the file when its row cannot be added, and logs it with the meeting', async () => {
    const { recorder, meeting, lines, ownerFiles } = setUp(() => {
      throw new Error('database is locked');
    });
    recorder.request(meeting, 'start', 'operator');
    expect(ownerFiles()).toHaveLength(1); // the dot-named file being written
    recorder.request(meeting, 'stop', 'operator');
    meeting.recording!.done();
    await recorder.close();
    expect(ownerFiles()).toEqual([]);
    const line = lines.find((l) => l.level === 'error' && /could not be stored/.test(l.msg));
    expect(line?.fields).toMatchObject({ meetingNumber: 4711, owner: SID });
  });

  it('gives up a file never reported closed: close() returns after the close timeout and the file is gone', async () => {
    const rows: NewRecording[] = [];
    const { recorder, meeting, lines, ownerFiles } = setUp((row) => (rows.push(row), { id: rows.length, ...row }));
    recorder.request(meeting, 'start', 'operator');
    const started = Date.now();
    await recorder.close();
    expect(Date.now() - started).toBeLessThan(2000);
    expect(meeting.recording!.stopped).toBe(true);
    expect(ownerFiles()).toEqual([]);
    expect(rows).toEqual([]);
    const line = lines.find((l) => l.level === 'error' && /not reported closed/.test(l.msg));
    expect(line?.fields).toMatchObject({ meetingNumber: 4711 });
    // The engine reporting late changes nothing: no row, no file.
    meeting.recording!.done();
    expect(rows).toEqual([]);
    expect(ownerFiles()).toEqual([]);
  });

  it('a stopped recording reported late (not at shutdown) is given up the same way', async () => {
    const rows: NewRecording[] = [];
    const { recorder, meeting, ownerFiles } = setUp((row) => (rows.push(row), { id: rows.length, ...row }));
    recorder.request(meeting, 'start', 'operator');
    recorder.request(meeting, 'stop', 'operator');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(ownerFiles()).toEqual([]);
    meeting.recording!.done();
    expect(rows).toEqual([]);
    await recorder.close();
  });
});
