/**
 * The upload limit of a subscriber's files counts their uploads only:
 * meeting recordings share the subscriber's directory (RecordingFiles) but
 * have rows in the store, and neither kind of file may crowd out the other.
 * The route is driven directly with a real directory and a multipart body.
 */
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/api/errors.js';
import { addFileRoutes } from '../../../src/api/routes/fileRoutes.js';
import { Router, type RouteContext } from '../../../src/api/router.js';
import type { RecordingRow } from '../../../src/store/RecordingTypes.js';
import type { ConferenceStore } from '../../../src/store/StoreTypes.js';
import { SubscriberFiles } from '../../../src/store/SubscriberFiles.js';

const SID = 'sub-1';
const BOUNDARY = 'limit-boundary';
let root: string | undefined;

afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

/** 20 ms of silence as a mono 16-bit 8 kHz WAV. */
function wav(): Buffer {
  const data = Buffer.alloc(320);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

function uploadRequest(name: string): IncomingMessage {
  const body = Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: audio/wav\r\n\r\n`),
    wav(),
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ]);
  const request = Readable.from([body]) as unknown as IncomingMessage;
  request.headers = { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, 'content-length': String(body.length) };
  return request;
}

function recordingRow(fileName: string, id: number): RecordingRow {
  return { id, meetingNumber: 1000, subscriberSid: SID, fileName, created: 0, duration: 20, size: 364, framesDropped: 0, error: null };
}

function setUp(maxFiles: number) {
  root = mkdtempSync(join(tmpdir(), 'file-limit-'));
  const files = new SubscriberFiles(root);
  const rows: RecordingRow[] = [];
  const store = { getSubscriber: (sid: string) => (sid === SID ? { sid } : undefined) } as unknown as ConferenceStore;
  const router = new Router();
  addFileRoutes(router, { store, files, recordings: { listRecordings: (sid) => rows.filter((r) => r.subscriberSid === sid) }, maxFilesPerSubscriber: maxFiles });
  const { route, params } = router.match('POST', ['subscribers', SID, 'files']);
  const upload = async (name: string): Promise<number> => {
    const ctx = { params, ids: {}, query: new URLSearchParams(), body: undefined, principal: { sid: SID, login: 'u', role: 'user' }, request: uploadRequest(name), fields: {} };
    try {
      return (await route.handler(ctx as unknown as RouteContext<undefined>)).status;
    } catch (err) {
      if (err instanceof ApiError) return err.status;
      throw err;
    }
  };
  /** A finished meeting recording, as MeetingRecorder leaves it: the file in the subscriber's directory and its row. */
  const record = (fileName: string): void => {
    mkdirSync(join(root!, SID), { recursive: true });
    writeFileSync(join(root!, SID, fileName), wav());
    rows.push(recordingRow(fileName, rows.length + 1));
  };
  return { files, upload, record };
}

describe('subscriber upload limit', () => {
  it('does not count meeting recordings: a subscriber with many recordings still uploads up to the limit', async () => {
    const { files, upload, record } = setUp(2);
    for (let i = 0; i < 3; i++) record(`rec-1000-${i}.wav`);
    expect(await upload('a.wav')).toBe(200);
    expect(await upload('b.wav')).toBe(200);
    // The third upload is over the limit of 2 uploads, whatever the recordings.
    expect(await upload('c.wav')).toBe(409);
    expect(files.list(SID).map((f) => f.name)).toEqual(['a.wav', 'b.wav', 'rec-1000-0.wav', 'rec-1000-1.wav', 'rec-1000-2.wav']);
  });

  it('a full upload quota leaves room for recordings, and deleting an upload frees a place', async () => {
    const { files, upload, record } = setUp(2);
    expect(await upload('a.wav')).toBe(200);
    expect(await upload('b.wav')).toBe(200);
    // Recordings land whatever the uploads (MeetingRecorder has no file limit); they still do not count.
    record('rec-1000-0.wav');
    expect(await upload('c.wav')).toBe(409);
    expect(files.delete(SID, ['a.wav'])).toEqual([]);
    expect(await upload('c.wav')).toBe(200);
    expect(readdirSync(join(root!, SID)).filter((n) => !n.startsWith('.')).sort()).toEqual(['b.wav', 'c.wav', 'rec-1000-0.wav']);
  });

  it('counts every file when no recording rows are known', async () => {
    root = mkdtempSync(join(tmpdir(), 'file-limit-'));
    const files = new SubscriberFiles(root);
    mkdirSync(join(root, SID));
    writeFileSync(join(root, SID, 'rec-1000-0.wav'), wav());
    const router = new Router();
    const store = { getSubscriber: () => ({ sid: SID }) } as unknown as ConferenceStore;
    addFileRoutes(router, { store, files, maxFilesPerSubscriber: 1 });
    const { route, params } = router.match('POST', ['subscribers', SID, 'files']);
    const ctx = { params, ids: {}, query: new URLSearchParams(), principal: { sid: SID, login: 'u', role: 'user' }, request: uploadRequest('a.wav'), fields: {} };
    await expect(Promise.resolve().then(() => route.handler(ctx as unknown as RouteContext<undefined>))).rejects.toMatchObject({ status: 409 });
  });
});
