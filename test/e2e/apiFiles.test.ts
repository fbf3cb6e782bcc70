/**
 * Seed 004's subscriber files and subscriber-scoped meeting rooms over real
 * HTTP: a WAV upload is stored and described (size, duration), listed and
 * deleted; path traversal, oversize bodies, wrong content types, non-WAV
 * content, extra parts and name clashes are refused naming the problem and
 * change nothing on disk; users reach only their own files and rooms.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiHarness, type ApiCall } from '../support/apiHarness.js';

const PORTS = { sip: 25880, http: 25980, rtpMin: 24400, rtpMax: 24449 };
const h = apiHarness({ ports: PORTS, adminPassword: 'files-test-password' });
const USER: [string, string] = ['fiona', 'fiona-password'];

let user: ApiCall;
let userSid: string;

beforeAll(async () => {
  user = h.client(USER);
  const created = await h.api('POST', '/conference/v1/subscribers', { body: { login: USER[0], password: USER[1], role: 3 } });
  expect(created.status).toBe(200);
  userSid = created.json.sid;
});

/** A mono 16-bit 8 kHz PCM WAV file of `ms` milliseconds of a 440 Hz tone. */
function wav(ms: number): Buffer {
  const samples = (8000 * ms) / 1000;
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 8000)), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

const BOUNDARY = 'test-boundary-7d1f';

interface Part {
  field: string;
  filename?: string;
  type?: string;
  content: Buffer | string;
}

function multipart(parts: Part[]): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.field}"${part.filename === undefined ? '' : `; filename="${part.filename}"`}`;
    chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: ${disposition}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`));
    chunks.push(Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
  return Buffer.concat(chunks);
}

function upload(client: ApiCall, sid: string, parts: Part[], contentType = `multipart/form-data; boundary=${BOUNDARY}`) {
  return client('POST', `/conference/v1/subscribers/${sid}/files`, { rawBody: multipart(parts), contentType });
}

/** Every file under the data directory (to prove a refusal wrote nothing anywhere). */
function allFiles(dir = h.server.config.dataDir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? allFiles(join(dir, e.name)) : [join(dir, e.name)]));
}

function fieldsOf(json: { errors: Array<{ field: string }> }): string[] {
  return json.errors.map((e) => e.field);
}

describe('subscriber files', () => {
  it('stores, describes, lists and deletes a WAV upload', async () => {
    const stored = await upload(user, userSid, [{ field: 'file', filename: 'welcome.wav', type: 'audio/wav', content: wav(1500) }]);
    expect(stored.status, stored.text).toBe(200);
    expect(stored.json).toEqual({ name: 'welcome.wav', size: 44 + 24000, duration: 1500, url: `/storage/subscribers/${userSid}/welcome.wav` });
    const second = await upload(h.api, userSid, [{ field: 'file', filename: 'hold-1.wav', type: 'audio/x-wav', content: wav(250) }]);
    expect(second.status, second.text).toBe(200);

    const list = await user('GET', `/conference/v1/subscribers/${userSid}/files?order=name%20desc`);
    expect(list.status).toBe(200);
    expect(list.json).toMatchObject({ total: 2, offset: 0, last: 1 });
    expect(list.json.fileDescriptors.map((f: { name: string }) => f.name)).toEqual(['welcome.wav', 'hold-1.wav']);
    const filtered = await user('GET', `/conference/v1/subscribers/${userSid}/files?filter=${encodeURIComponent("name like 'hold%' and duration lt 1000")}`);
    expect(filtered.json.fileDescriptors.map((f: { name: string }) => f.name)).toEqual(['hold-1.wav']);
    const sqlish = await user('GET', `/conference/v1/subscribers/${userSid}/files?filter=${encodeURIComponent("name eq 'x' OR 1=1; DROP TABLE subscribers")}`);
    expect(sqlish.status).toBe(400);
    expect(fieldsOf(sqlish.json)).toContain('filter');
    const unknownField = await user('GET', `/conference/v1/subscribers/${userSid}/files?filter=${encodeURIComponent('path eq x')}`);
    expect(unknownField.status).toBe(400);

    // Deleting a list with one missing name deletes nothing.
    const partial = await user('DELETE', `/conference/v1/subscribers/${userSid}/files`, { body: ['hold-1.wav', 'nope.wav'] });
    expect(partial.status).toBe(404);
    expect(partial.json.errors[0].message).toMatch(/nope\.wav/);
    expect((await user('GET', `/conference/v1/subscribers/${userSid}/files`)).json.total).toBe(2);
    expect((await user('DELETE', `/conference/v1/subscribers/${userSid}/files`, { body: ['hold-1.wav'] })).status).toBe(204);
    expect((await user('DELETE', `/conference/v1/subscribers/${userSid}/files/welcome.wav`)).status).toBe(204);
    expect((await user('DELETE', `/conference/v1/subscribers/${userSid}/files/welcome.wav`)).status).toBe(404);
    expect((await user('GET', `/conference/v1/subscribers/${userSid}/files`)).json.total).toBe(0);
  });

  it('refuses traversal, bad types, bad content, oversize bodies, extra parts and clashes, changing nothing', async () => {
    expect((await upload(user, userSid, [{ field: 'file', filename: 'keep.wav', type: 'audio/wav', content: wav(100) }])).status).toBe(200);
    const before = allFiles().sort();
    const good = wav(100);
    const cases: Array<[Part[], number, string, string?]> = [
      [[{ field: 'file', filename: '../../evil.wav', type: 'audio/wav', content: good }], 400, 'file.name'],
      [[{ field: 'file', filename: '..\\evil.wav', type: 'audio/wav', content: good }], 400, 'file.name'],
      [[{ field: 'file', filename: '/etc/evil.wav', type: 'audio/wav', content: good }], 400, 'file.name'],
      [[{ field: 'file', filename: '.hidden.wav', type: 'audio/wav', content: good }], 400, 'file.name'],
      [[{ field: 'file', filename: 'evil.sh', type: 'audio/wav', content: good }], 400, 'file.name'],
      [[{ field: 'file', filename: 'x.wav', type: 'text/plain', content: good }], 415, 'file'],
      [[{ field: 'file', filename: 'x.wav', type: 'audio/wav', content: 'not a wav at all, just text' }], 415, 'file'],
      [[{ field: 'upload', filename: 'x.wav', type: 'audio/wav', content: good }], 400, 'upload'],
      [[{ field: 'note', content: 'hello' }], 400, 'note'],
      [[{ field: 'file', filename: 'x.wav', type: 'audio/wav', content: good }, { field: 'file', filename: 'y.wav', type: 'audio/wav', content: good }], 400, 'body'],
      [[{ field: 'file', filename: 'keep.wav', type: 'audio/wav', content: good }], 409, 'file.name'],
    ];
    for (const [parts, status, field] of cases) {
      const answer = await upload(user, userSid, parts);
      expect(answer.status, `${JSON.stringify(parts.map((p) => p.filename ?? p.field))}: ${answer.text}`).toBe(status);
      expect(fieldsOf(answer.json)).toContain(field);
    }
    const json = await user('POST', `/conference/v1/subscribers/${userSid}/files`, { body: { file: 'x' } });
    expect(json.status).toBe(415);
    expect(fieldsOf(json.json)).toContain('Content-Type');
    const noBoundary = await upload(user, userSid, [{ field: 'file', filename: 'x.wav', type: 'audio/wav', content: good }], 'multipart/form-data');
    expect(noBoundary.status).toBe(400);

    // 11 MiB: refused by its declared length, and by counting when the part alone passes the limit.
    const huge = await upload(user, userSid, [{ field: 'file', filename: 'huge.wav', type: 'audio/wav', content: Buffer.concat([wav(100), Buffer.alloc(11 * 1024 * 1024)]) }]);
    expect(huge.status).toBe(413);
    expect(fieldsOf(huge.json)).toContain('file');
    const justOver = await upload(user, userSid, [{ field: 'file', filename: 'over.wav', type: 'audio/wav', content: Buffer.concat([wav(100), Buffer.alloc(10 * 1024 * 1024)]) }]);
    expect(justOver.status).toBe(413);

    // Deleting by a name that is a path.
    expect((await user('DELETE', `/conference/v1/subscribers/${userSid}/files/..%2Fconference.db`)).status).toBe(400);
    expect((await user('DELETE', `/conference/v1/subscribers/${userSid}/files/..%5Cconference.db`)).status).toBe(400);
    const arrayTraversal = await user('DELETE', `/conference/v1/subscribers/${userSid}/files`, { body: ['../../conference.db'] });
    expect(arrayTraversal.status).toBe(400);
    expect((await user('DELETE', `/conference/v1/subscribers/${userSid}/files`, { rawBody: '["keep.wav"', contentType: 'application/json' })).status).toBe(400);
    expect((await user('DELETE', `/conference/v1/subscribers/${userSid}/files`, { body: [42] })).status).toBe(422);

    expect(allFiles().sort()).toEqual(before);
    expect(existsSync(join(h.server.config.dataDir, 'conference.db'))).toBe(true);
    expect(allFiles().some((f) => f.includes('evil') || f.includes('.upload-'))).toBe(false);
  });

  it('keeps each subscriber to their own files', async () => {
    const me = (await h.api('GET', '/conference/v1/subscribers/whoami')).json;
    expect((await user('GET', `/conference/v1/subscribers/${me.sid}/files`)).status).toBe(404);
    expect((await upload(user, me.sid, [{ field: 'file', filename: 'x.wav', type: 'audio/wav', content: wav(100) }])).status).toBe(404);
    expect((await user('DELETE', `/conference/v1/subscribers/${me.sid}/files/x.wav`)).status).toBe(404);
    expect((await h.api('GET', '/conference/v1/subscribers/no-such-sid/files')).status).toBe(404);
    // Administrators reach everyone's.
    expect((await h.api('GET', `/conference/v1/subscribers/${userSid}/files`)).json.total).toBe(1);
  });

  it('keeps at most 100 files per subscriber', async () => {
    const temp = await h.api('POST', '/conference/v1/subscribers', { body: { login: 'hoarder', password: 'hoarder-password' } });
    const small = wav(20);
    for (let i = 0; i < 100; i++) {
      const stored = await upload(h.api, temp.json.sid, [{ field: 'file', filename: `f${i}.wav`, type: 'audio/wav', content: small }]);
      expect(stored.status).toBe(200);
    }
    const over = await upload(h.api, temp.json.sid, [{ field: 'file', filename: 'f100.wav', type: 'audio/wav', content: small }]);
    expect(over.status).toBe(409);
    expect(over.json.errors[0]).toMatchObject({ field: 'file' });
    expect(over.json.errors[0].message).toMatch(/at most 100 files/);
    expect((await h.api('GET', `/conference/v1/subscribers/${temp.json.sid}/files`)).json.total).toBe(100);
    expect((await h.api('DELETE', `/conference/v1/subscribers/${temp.json.sid}`)).status).toBe(204);
  });

  it('removes a deleted subscriber\'s files', async () => {
    const temp = await h.api('POST', '/conference/v1/subscribers', { body: { login: 'gone', password: 'gone-password' } });
    expect((await upload(h.api, temp.json.sid, [{ field: 'file', filename: 'bye.wav', type: 'audio/wav', content: wav(100) }])).status).toBe(200);
    expect(existsSync(join(h.server.config.dataDir, 'files', temp.json.sid, 'bye.wav'))).toBe(true);
    expect((await h.api('DELETE', `/conference/v1/subscribers/${temp.json.sid}`)).status).toBe(204);
    expect(existsSync(join(h.server.config.dataDir, 'files', temp.json.sid))).toBe(false);
  });
});

describe('subscriber meeting rooms', () => {
  it('creates, lists, reads, changes and deletes rooms under a subscriber', async () => {
    const groups = (await h.api('GET', '/conference/v1/didGroups')).json.didGroups;
    const created = await h.api('POST', `/conference/v1/subscribers/${userSid}/meetingRooms`, {
      body: { primaryDidGroupId: groups[0].id, meetingNumber: 313267, keychain: [{ accessCode: '31326', role: 1 }] },
    });
    expect(created.status, created.text).toBe(200);
    expect(created.json).toMatchObject({ meetingNumber: 313267, subscriberSid: userSid });
    const list = await user('GET', `/conference/v1/subscribers/${userSid}/meetingRooms`);
    expect(list.json).toMatchObject({ total: 1, meetingRooms: [{ meetingNumber: 313267 }] });
    expect((await h.api('GET', `/conference/v1/subscribers/${userSid}/meetingRooms/1000`)).status).toBe(404); // not theirs
    expect((await user('GET', `/conference/v1/subscribers/${userSid}/meetingRooms/313267/keychain`)).json).toHaveLength(1);
    const changed = await user('PUT', `/conference/v1/subscribers/${userSid}/meetingRooms/313267`, { body: { description: 'Weekly' } });
    expect(changed.status).toBe(200);
    expect(changed.json.description).toBe('Weekly');
    const unknownField = await user('PUT', `/conference/v1/subscribers/${userSid}/meetingRooms/313267`, { body: { colour: 'red' } });
    expect(unknownField.status).toBe(422);
    expect(fieldsOf(unknownField.json)).toContain('colour');
    // The user cannot create under someone else, nor list another subscriber's rooms.
    const me = (await h.api('GET', '/conference/v1/subscribers/whoami')).json;
    expect((await user('GET', `/conference/v1/subscribers/${me.sid}/meetingRooms`)).status).toBe(404);
    expect((await user('POST', `/conference/v1/subscribers/${me.sid}/meetingRooms`, { body: { primaryDidGroupId: groups[0].id } })).status).toBe(404);
    // A user still needs the DID group assigned to create a room themselves.
    const own = await user('POST', `/conference/v1/subscribers/${userSid}/meetingRooms`, { body: { primaryDidGroupId: groups[0].id } });
    expect(own.status).toBe(403);
    expect((await user('DELETE', `/conference/v1/subscribers/${userSid}/meetingRooms/313267`)).status).toBe(204);
    expect((await h.api('GET', '/conference/v1/meetingRooms/313267')).status).toBe(404);
  });
});
