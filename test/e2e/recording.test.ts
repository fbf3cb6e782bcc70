/**
 * Meeting recording end to end, with real sipp callers streaming tones:
 * recording-start/stop through the API (409 twice in a row), everyone hears
 * conf-now-recording, the WAV file lands in the room owner's files with a
 * row under /recordings, holds the callers' tones at a sensible level, is
 * downloadable by its owner only, and deletable; the WebSocket feed shows
 * recording-start and recording-stop. The host's keypad (*7) starts and
 * stops it, a participant's is refused; conference_recording off refuses
 * the keypad (error tone) and the API (403); a file that cannot be
 * written answers 503 while the meeting carries on; auto records from the first
 * caller, and recording_stop_how moderator stops it recording_stop_wait
 * after the host left while the others stay.
 */
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rms, toneAmplitude } from '../support/audio.js';
import { CallerMedia } from '../support/callerMedia.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller, type CallerStep, type SippRun } from '../support/sipp.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { sleep, waitFor } from '../support/wait.js';
import { SqliteStore } from '../../src/store/SqliteStore.js';
import { wavInfo } from '../../src/store/SubscriberFiles.js';
import { apiClient, openFeed, type FeedConnection } from './apiClient.js';

// SIP 18000-18199, HTTP 18200-18299, RTP 18300-18999 (server 18300-18599, sinks 18600-18699, sipp media 18700-18999).
const PORTS = { sip: 18000, http: 18200, rtpMin: 18300, rtpMax: 18599 };
const ADMIN: [string, string] = ['admin', 'recording-test-password'];
const RITA: [string, string] = ['rita', 'rita-password-1'];
const SAM: [string, string] = ['sam', 'sam-password-12'];
const DID = '15550100';
/** A tone level a caller clearly hears, and one it does not. */
const HEARD = 1500;

let server: TestServer;
let media: CallerMedia;
let admin: ReturnType<typeof apiClient>;
let rita: ReturnType<typeof apiClient>;
let sam: ReturnType<typeof apiClient>;
let ritaSid: string;
let didGroupId: number;
let nextCaller = 0;
const runs: SippRun[] = [];
const sinks: RtpSink[] = [];

beforeAll(async () => {
  media = new CallerMedia();
  server = await startTestServer(PORTS, undefined, { ADMIN_PASSWORD: ADMIN[1] });
  admin = apiClient(PORTS.http, ADMIN);
  rita = apiClient(PORTS.http, RITA);
  sam = apiClient(PORTS.http, SAM);
  const created = await admin('POST', '/conference/v1/subscribers', { body: { login: RITA[0], password: RITA[1], role: 3 } });
  expect(created.status).toBe(200);
  ritaSid = created.json.sid;
  expect((await admin('POST', '/conference/v1/subscribers', { body: { login: SAM[0], password: SAM[1], role: 3 } })).status).toBe(200);
  const groups = await admin('GET', `/conference/v1/didGroups?filter=${encodeURIComponent('name eq demo')}`);
  didGroupId = groups.json.didGroups[0].id;
});

afterAll(async () => {
  for (const run of runs) run.process.kill();
  for (const sink of sinks) sink.close();
  await server?.stop();
  media?.remove();
});

/** A room of Rita's with a host code `<n>1`, a participant code `<n>2` and these attributes. */
async function ritasRoom(meetingNumber: number, attributes: Record<string, string>): Promise<void> {
  const room = await admin('POST', `/conference/v1/subscribers/${ritaSid}/meetingRooms`, {
    body: {
      meetingNumber,
      primaryDidGroupId: didGroupId,
      keychain: [
        { accessCode: `${meetingNumber}1`, role: 1 },
        { accessCode: `${meetingNumber}2`, role: 2 },
      ],
      attributes: Object.entries(attributes).map(([name, value]) => ({ name, value })),
    },
  });
  expect(room.status, room.text).toBe(200);
}

interface Call {
  run: SippRun;
  sink: RtpSink;
}

/**
 * A sipp caller: enters `code`, streams a tone (when given), sends keys by
 * SIP INFO after the given pauses, then hangs up after `byeAfterMs` or
 * waits for the bridge's BYE.
 */
async function call(code: string, options: { frequency?: number; presses?: Array<[number, string]>; byeAfterMs?: number } = {}): Promise<Call> {
  const i = nextCaller++;
  const sink = await RtpSink.open(18600 + 2 * i);
  sinks.push(sink);
  const steps: CallerStep[] = [
    { kind: 'pause', ms: 500 },
    { kind: 'pcap', path: media.digits(`code-${i}`, `${code}#`) },
    { kind: 'pause', ms: 1500 },
  ];
  if (options.frequency !== undefined) steps.push({ kind: 'stream', path: media.tone(`tone-${i}`, options.frequency) });
  for (const [pause, digits] of options.presses ?? []) steps.push({ kind: 'pause', ms: pause }, { kind: 'info', digits });
  if (options.byeAfterMs !== undefined) steps.push({ kind: 'pause', ms: options.byeAfterMs }, { kind: 'bye' });
  else steps.push({ kind: 'expectBye', timeoutMs: 120_000 });
  const run = runCaller({ dialed: DID, rtpPort: sink.port, steps }, { serverPort: PORTS.sip, sipPort: 18010 + i, mediaPort: 18700 + 10 * i, timeoutSeconds: 150 });
  runs.push(run);
  return { run, sink };
}

async function expectScriptDone(calls: Call[]): Promise<void> {
  for (const { run } of calls) {
    const result = await run.done;
    expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
  }
}

/** Waits (up to 10 s) until the client lists `count` recordings: the row comes once the file is closed. */
async function recordingRows(client: ReturnType<typeof apiClient>, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await client('GET', '/conference/v1/recordings')).json.total !== count) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} recording rows`);
    await sleep(50);
  }
}

const meetingOf = (meetingNumber: number) => server.app.conferenceManager.getMeeting(meetingNumber);

/** The samples of a 16-bit mono PCM WAV file, with its rate. */
function wavSamples(file: Buffer): { rate: number; samples: Int16Array } {
  const info = wavInfo(file);
  if (!info.ok) throw new Error(`not a WAV file: ${info.reason}`);
  expect(file.readUInt16LE(20)).toBe(1); // PCM
  expect(info.channels).toBe(1);
  expect(file.readUInt16LE(34)).toBe(16);
  let offset = 12;
  while (file.toString('latin1', offset, offset + 4) !== 'data') offset += 8 + file.readUInt32LE(offset + 4);
  const size = file.readUInt32LE(offset + 4);
  const data = file.subarray(offset + 8, offset + 8 + size);
  const samples = new Int16Array(data.length / 2);
  for (let i = 0; i < samples.length; i++) samples[i] = data.readInt16LE(i * 2);
  return { rate: info.sampleRate, samples };
}

const names = (feed: FeedConnection, meetingNumber: number): string[] =>
  feed.events.filter((e: { meetingNumber: number }) => e.meetingNumber === meetingNumber).map((e: { event: string }) => e.event);

describe('meeting recording', () => {
  it('starts and stops through the API: announced, stored as the owner\'s file with the callers\' tones, downloadable by the owner only', async () => {
    await ritasRoom(4100, {});
    const feed = await openFeed(PORTS.http, '/conference/v1/events', ADMIN);
    const ritasFeed = await openFeed(PORTS.http, '/conference/v1/meetings/4100/events', RITA);
    try {
      const host = await call('41001', { frequency: 1850 });
      const guest = await call('41002', { frequency: 450 });
      await waitFor(() => meetingOf(4100)?.participants.length === 2, 20_000, 'two callers in meeting 4100', [host.run, guest.run]);
      await waitFor(() => meetingOf(4100)!.participants.every((p) => p.leg.playbackId === undefined), 20_000, 'entry prompts to finish');
      expect((await admin('GET', '/conference/v1/meetings/4100')).json.isRecording).toBe(false);

      // Quiet room: both muted, so what the host hears next is the announcement alone.
      const hostCall = meetingOf(4100)!.participants.find((p) => p.role === 'host')!;
      expect((await admin('PUT', `/conference/v1/calls/${hostCall.id}`, { body: { muteMode: 40 } })).status).toBe(200);
      expect((await admin('PUT', '/conference/v1/meetings/4100/participants', { body: { action: 'mute' } })).status).toBe(200);
      // Each hears "you are muted" first.
      await sleep(200);
      await waitFor(() => meetingOf(4100)!.participants.every((p) => p.leg.playbackId === undefined), 20_000, 'mute prompts to finish');
      await sleep(600);
      const quietSince = Date.now();
      await sleep(1000);
      const quiet = rms(host.sink.samplesSince(quietSince));

      const started = await admin('PUT', '/conference/v1/meetings/4100', { body: { action: 'recording-start' } });
      expect(started.status, started.text).toBe(200);
      expect(started.json).toMatchObject({ meetingNumber: 4100, isRecording: true });
      const again = await admin('PUT', '/conference/v1/meetings/4100', { body: { action: 'recording-start' } });
      expect(again.status).toBe(409);
      expect(again.json.errors[0].message).toMatch(/recorded already/);
      // Sam's is not his room: as if it did not exist.
      expect((await sam('PUT', '/conference/v1/meetings/4100', { body: { action: 'recording-stop' } })).status).toBe(404);

      // Everyone hears "conf-now-recording" (about 1.5 s of speech).
      const announcedSince = Date.now();
      await sleep(1800);
      const announced = rms(host.sink.samplesSince(announcedSince));
      const guestHeard = rms(guest.sink.samplesSince(announcedSince));
      expect(announced, `quiet ${quiet}, announced ${announced}`).toBeGreaterThan(1000);
      expect(guestHeard).toBeGreaterThan(1000);
      expect(quiet).toBeLessThan(100);

      // Both speak again for the recording.
      expect((await admin('PUT', `/conference/v1/calls/${hostCall.id}`, { body: { muteMode: 0 } })).status).toBe(200);
      expect((await admin('PUT', '/conference/v1/meetings/4100/participants', { body: { action: 'unmute' } })).status).toBe(200);
      await sleep(3000);
      const stopped = await rita('PUT', '/conference/v1/meetings/4100', { body: { action: 'recording-stop' } });
      expect(stopped.status, stopped.text).toBe(200);
      expect(stopped.json.isRecording).toBe(false);
      expect((await rita('PUT', '/conference/v1/meetings/4100', { body: { action: 'recording-stop' } })).status).toBe(409);

      // The row and the file.
      await recordingRows(admin, 1);
      const listed = (await rita('GET', '/conference/v1/recordings')).json;
      expect(listed.total).toBe(1);
      const recording = listed.recordings[0];
      expect(recording).toMatchObject({ meetingNumber: 4100, subscriberSid: ritaSid, error: null, framesDropped: 0 });
      expect(recording.name).toMatch(/^rec-4100-\d{8}-\d{6}\.wav$/);
      expect(recording.duration).toBeGreaterThan(4000);
      expect(recording.duration).toBeLessThan(30_000);
      expect(recording.created).toBeLessThanOrEqual(Date.now());
      const files = (await rita('GET', `/conference/v1/subscribers/${ritaSid}/files`)).json.fileDescriptors as Array<{ name: string; size: number; duration: number }>;
      expect(files.map((f) => f.name)).toEqual([recording.name]);
      expect(files[0]!.size).toBe(recording.size);

      const download = await rita('GET', `/conference/v1/recordings/${recording.id}/file`);
      expect(download.status).toBe(200);
      expect(download.headers['content-type']).toBe('audio/wav');
      expect(download.raw.length).toBe(recording.size);
      const { rate, samples } = wavSamples(download.raw);
      expect(rate).toBe(16000);
      expect(Math.abs((samples.length * 1000) / rate - recording.duration)).toBeLessThan(100);
      // The last 2 s hold both callers' tones at about their own level (-12 dBFS sines, 8000 peak), and nothing between them.
      const tail = samples.subarray(samples.length - 2 * rate);
      const hostLevel = toneAmplitude(tail, 1850, rate);
      const guestLevel = toneAmplitude(tail, 450, rate);
      const between = toneAmplitude(tail, 1150, rate);
      expect(hostLevel, `1850 Hz ${hostLevel}, 450 Hz ${guestLevel}, 1150 Hz ${between}`).toBeGreaterThan(4000);
      expect(guestLevel).toBeGreaterThan(4000);
      expect(hostLevel).toBeLessThan(12_000);
      expect(guestLevel).toBeLessThan(12_000);
      expect(between).toBeLessThan(300);
      // The same bytes as the subscriber's file.
      const asFile = await rita('GET', `/conference/v1/subscribers/${ritaSid}/files/${recording.name}`);
      expect(asFile.status).toBe(200);
      expect(asFile.raw.equals(download.raw)).toBe(true);

      // Sam sees none of it.
      expect((await sam('GET', '/conference/v1/recordings')).json.total).toBe(0);
      expect((await sam('GET', `/conference/v1/recordings/${recording.id}`)).status).toBe(404);
      expect((await sam('GET', `/conference/v1/recordings/${recording.id}/file`)).status).toBe(404);
      expect((await sam('GET', `/conference/v1/subscribers/${ritaSid}/files/${recording.name}`)).status).toBe(404);
      expect((await sam('DELETE', `/conference/v1/recordings/${recording.id}`)).status).toBe(404);
      expect((await rita('GET', '/conference/v1/recordings/99999/file')).status).toBe(404);
      const badId = await rita('GET', '/conference/v1/recordings/abc');
      expect(badId.status).toBe(400);
      expect(badId.json.errors[0].field).toBe('id');
      const badAction = await admin('PUT', '/conference/v1/meetings/4100', { body: { action: 'recording-pause' } });
      expect(badAction.status).toBe(422);
      expect(badAction.json.errors[0].field).toBe('action');
      expect((await rita('GET', `/conference/v1/subscribers/${ritaSid}/files/..%2Fconference.db`)).status).toBe(400);
      expect((await admin('GET', '/conference/v1/recordings', { auth: null })).status).toBe(401);

      // The feed told it, in order, to the administrator and to Rita.
      for (const f of [feed, ritasFeed]) {
        await waitFor(() => names(f, 4100).includes('recording-stop'), 5000, 'recording-stop on the feed');
        const seen = names(f, 4100).filter((n) => n.startsWith('recording-'));
        expect(seen).toEqual(['recording-start', 'recording-stop']);
      }
      const startEvent = feed.events.find((e: { event: string }) => e.event === 'recording-start');
      expect(startEvent.data).toMatchObject({ by: 'operator' });

      // Rita deletes it: the file and the row go.
      expect((await rita('DELETE', `/conference/v1/recordings/${recording.id}`)).status).toBe(204);
      expect((await rita('GET', '/conference/v1/recordings')).json.total).toBe(0);
      expect((await rita('GET', `/conference/v1/subscribers/${ritaSid}/files`)).json.total).toBe(0);

      expect((await admin('DELETE', '/conference/v1/meetings/4100')).status).toBe(204);
      await expectScriptDone([host, guest]);
    } finally {
      feed.socket.close();
      ritasFeed.socket.close();
    }
  });

  it("the host's *7 starts and stops it in a room without a subscriber; a participant's *7 is refused", async () => {
    const feed = await openFeed(PORTS.http, '/conference/v1/meetings/1000/events', ADMIN);
    try {
      // The participant tries first (refused: recording_dtmf is hosts only), then the host starts and stops.
      const guest = await call('2222', { frequency: 450, presses: [[3000, '*7']] });
      const host = await call('1111', { frequency: 1850, presses: [[5000, '*7'], [4000, '*7']] });
      await waitFor(() => meetingOf(1000)?.participants.length === 2, 20_000, 'two callers in meeting 1000', [host.run, guest.run]);
      await waitFor(() => server.app.conferenceManager.getMeeting(1000) !== undefined && names(feed, 1000).includes('recording-start'), 20_000, 'the host to start recording', [host.run]);
      expect((await admin('GET', '/conference/v1/meetings/1000')).json.isRecording).toBe(true);
      await waitFor(() => names(feed, 1000).includes('recording-stop'), 20_000, 'the host to stop recording', [host.run]);
      const events = feed.events.filter((e: { event: string }) => e.event.startsWith('recording-'));
      expect(events.map((e: { event: string }) => e.event)).toEqual(['recording-start', 'recording-stop']);
      expect(events[0].data).toMatchObject({ by: 'host' });
      expect(events[0].participant_id).toBe(meetingOf(1000)!.participants.find((p) => p.role === 'host')!.id);

      await recordingRows(admin, 1);
      const recording = (await admin('GET', '/conference/v1/recordings')).json.recordings[0];
      expect(recording).toMatchObject({ meetingNumber: 1000, subscriberSid: null });
      expect(recording.duration).toBeGreaterThan(2000);
      // A room without a subscriber: administrators and operators only.
      expect((await rita('GET', '/conference/v1/recordings')).json.total).toBe(0);
      expect((await rita('GET', `/conference/v1/recordings/${recording.id}/file`)).status).toBe(404);
      const download = await admin('GET', `/conference/v1/recordings/${recording.id}/file`);
      expect(download.status).toBe(200);
      const { rate, samples } = wavSamples(download.raw);
      expect(toneAmplitude(samples.subarray(samples.length - rate), 1850, rate)).toBeGreaterThan(HEARD);
      expect((await admin('DELETE', `/conference/v1/recordings/${recording.id}`)).status).toBe(204);

      // The host's scenario waits for the BYE once its last INFO is through.
      await sleep(1000);
      meetingOf(1000)?.end();
      await expectScriptDone([host, guest]);
    } finally {
      feed.socket.close();
    }
  });

  it('a recording that cannot be written answers 503 and the meeting carries on unrecorded', async () => {
    // Room 1000 has no subscriber: its recordings go to <dataDir>/recordings, here a plain file in the way.
    const blocker = join(server.config.dataDir, 'recordings');
    rmSync(blocker, { recursive: true, force: true });
    writeFileSync(blocker, 'not a directory');
    const guest = await call('2222', { frequency: 450 });
    const host = await call('1111', { frequency: 1850 });
    try {
      await waitFor(() => meetingOf(1000)?.participants.length === 2, 20_000, 'two callers in meeting 1000', [host.run, guest.run]);
      const failed = await admin('PUT', '/conference/v1/meetings/1000', { body: { action: 'recording-start' } });
      expect(failed.status, failed.text).toBe(503);
      expect(failed.json.errors[0].message).toMatch(/could not be started/);
      expect((await admin('GET', '/conference/v1/meetings/1000')).json).toMatchObject({ isRecording: false, participantCount: 2 });
      // The callers still hear each other.
      await sleep(700);
      const since = Date.now();
      await sleep(1500);
      expect(toneAmplitude(guest.sink.samplesSince(since), 1850)).toBeGreaterThan(HEARD);
      // Once the disk is right again, recording works.
      rmSync(blocker, { force: true });
      expect((await admin('PUT', '/conference/v1/meetings/1000', { body: { action: 'recording-start' } })).status).toBe(200);
      expect((await admin('PUT', '/conference/v1/meetings/1000', { body: { action: 'recording-stop' } })).status).toBe(200);
      await recordingRows(admin, 1);
      const recording = (await admin('GET', '/conference/v1/recordings')).json.recordings[0];
      expect((await admin('DELETE', `/conference/v1/recordings/${recording.id}`)).status).toBe(204);
      expect((await admin('DELETE', '/conference/v1/meetings/1000')).status).toBe(204);
      await expectScriptDone([host, guest]);
    } finally {
      if (existsSync(blocker) && statSync(blocker).isFile()) rmSync(blocker);
    }
  });

  it('conference_recording off: the keypad gets the error tone and the API 403; a live change to off stops a recording', async () => {
    await ritasRoom(4200, { conference_recording: 'off' });
    const host = await call('42001', { presses: [[4000, '*7']] });
    await waitFor(() => meetingOf(4200)?.participants.length === 1, 20_000, 'the host in meeting 4200', [host.run]);
    await waitFor(() => meetingOf(4200)!.participants.every((p) => p.leg.playbackId === undefined), 20_000, 'entry prompts to finish');
    const since = Date.now();
    const refused = await rita('PUT', '/conference/v1/meetings/4200', { body: { action: 'recording-start' } });
    expect(refused.status).toBe(403);
    expect(refused.json.errors[0].message).toMatch(/conference_recording off/);
    // The host's *7 (about 4 s after joining) answers with the error tone: 300 Hz.
    await sleep(5000);
    const heard = host.sink.samplesSince(since);
    expect(toneAmplitude(heard, 300)).toBeGreaterThan(300);
    expect((await rita('GET', '/conference/v1/meetings/4200')).json.isRecording).toBe(false);
    expect((await admin('GET', '/conference/v1/recordings')).json.total).toBe(0);

    // The live meeting's attributes may allow it after all, and forbid it again: that stops the recording.
    const feed = await openFeed(PORTS.http, '/conference/v1/meetings/4200/events', RITA);
    try {
      expect((await rita('PUT', '/conference/v1/meetings/4200/attributes/conference_recording', { body: { value: 'on' } })).status).toBe(200);
      expect((await rita('PUT', '/conference/v1/meetings/4200', { body: { action: 'recording-start' } })).json.isRecording).toBe(true);
      expect((await rita('PUT', '/conference/v1/meetings/4200/attributes/conference_recording', { body: { value: 'off' } })).status).toBe(200);
      expect((await rita('GET', '/conference/v1/meetings/4200')).json.isRecording).toBe(false);
      await waitFor(() => names(feed, 4200).includes('recording-stop'), 5000, 'recording-stop');
      expect(feed.events.find((e: { event: string }) => e.event === 'recording-stop').data).toMatchObject({ by: 'policy', reason: 'disabled' });
      await recordingRows(rita, 1);
      const recording = (await rita('GET', '/conference/v1/recordings')).json.recordings[0];
      expect((await rita('DELETE', `/conference/v1/recordings/${recording.id}`)).status).toBe(204);
    } finally {
      feed.socket.close();
    }
    expect((await admin('DELETE', '/conference/v1/meetings/4200')).status).toBe(204);
    await expectScriptDone([host]);
  });

  it('auto records from the first caller; stop_how moderator stops it stop_wait after the host left', async () => {
    await ritasRoom(4300, { conference_recording: 'auto', recording_stop_how: 'moderator', recording_stop_wait: '2' });
    const feed = await openFeed(PORTS.http, '/conference/v1/meetings/4300/events', RITA);
    try {
      const host = await call('43001', { frequency: 1850, byeAfterMs: 5000 });
      await waitFor(() => meetingOf(4300)?.participants.length === 1, 20_000, 'the host in meeting 4300', [host.run]);
      expect((await rita('GET', '/conference/v1/meetings/4300')).json.isRecording).toBe(true);
      const guest = await call('43002', { frequency: 450 });
      await waitFor(() => meetingOf(4300)?.participants.length === 2, 20_000, 'the guest in meeting 4300', [guest.run]);
      await expectScriptDone([host]);
      await waitFor(() => meetingOf(4300)?.participants.length === 1, 5000, 'the host to leave');
      // Still recording within the stop wait...
      expect((await rita('GET', '/conference/v1/meetings/4300')).json.isRecording).toBe(true);
      // ...then it stops, and the meeting goes on with the guest.
      await waitFor(() => names(feed, 4300).includes('recording-stop'), 10_000, 'recording-stop after the stop wait');
      expect((await rita('GET', '/conference/v1/meetings/4300')).json).toMatchObject({ isRecording: false, participantCount: 1 });
      const stop = feed.events.find((e: { event: string }) => e.event === 'recording-stop');
      expect(stop.data).toMatchObject({ reason: 'hostLeft' });
      await recordingRows(rita, 1);
      const recording = (await rita('GET', '/conference/v1/recordings')).json.recordings[0];
      expect(recording.meetingNumber).toBe(4300);
      const { rate, samples } = wavSamples((await rita('GET', `/conference/v1/recordings/${recording.id}/file`)).raw);
      // The guest's tone is in it.
      expect(toneAmplitude(samples.subarray(samples.length - rate), 450, rate)).toBeGreaterThan(HEARD);
      expect((await admin('DELETE', '/conference/v1/meetings/4300')).status).toBe(204);
      await expectScriptDone([guest]);
    } finally {
      feed.socket.close();
    }
  });

  // Last: it shuts the server down.
  it('a recording running at shutdown is closed and stored before the store closes', async () => {
    const host = await call('1111', { frequency: 1850 });
    await waitFor(() => meetingOf(1000)?.participants.length === 1, 20_000, 'the host in meeting 1000', [host.run]);
    expect((await admin('PUT', '/conference/v1/meetings/1000', { body: { action: 'recording-start' } })).status).toBe(200);
    await sleep(2000);
    await server.app.close();
    const store = SqliteStore.open(server.config.dataDir);
    try {
      const rows = store.listRecordings().filter((r) => r.meetingNumber === 1000);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ meetingNumber: 1000, subscriberSid: null, error: null });
      expect(rows[0]!.duration).toBeGreaterThan(1500);
      const file = readFileSync(join(server.config.dataDir, 'recordings', rows[0]!.fileName));
      expect(file.length).toBe(rows[0]!.size);
      const { rate, samples } = wavSamples(file);
      expect(toneAmplitude(samples.subarray(samples.length - rate), 1850, rate)).toBeGreaterThan(HEARD);
    } finally {
      store.close();
    }
  });
});
