/**
 * Issue 6's audit, the items no other file shows: every route of the
 * OpenAPI document refuses a request without credentials (401) and a user
 * on a route its roles leave out (403), before reading anything; seed
 * 004's filter operators and pagination defaults as its examples use them;
 * 415 and 422 on the live routes, unknown fields in action bodies; and a
 * room attribute changed over the API applies to the next real caller
 * without a restart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiHarness } from '../support/apiHarness.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller } from '../support/sipp.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 21060, http: 21240, rtpMin: 21800, rtpMax: 21849 };
const h = apiHarness({ ports: PORTS, adminPassword: 'audit-test-password' });
const USER: [string, string] = ['audrey', 'audrey-password'];

beforeAll(async () => {
  expect((await h.api('POST', '/conference/v1/subscribers', { body: { login: USER[0], password: USER[1], role: 3 } })).status).toBe(200);
});

/** A value for each path parameter of the document. */
const PARAMS: Record<string, string> = {
  meetingNumber: '1000',
  id: '1',
  sid: 'no-such-sid',
  name: 'conference_entrytones',
  number: '15551230001',
  fileName: 'a.wav',
  meetingKeyId: '1',
  participantId: '1',
};

interface Operation {
  method: string;
  path: string;
  roles: string[];
}

async function operations(): Promise<Operation[]> {
  const doc = (await h.api('GET', '/conference/v1/openapi.json', { auth: null })).json;
  const out: Operation[] = [];
  for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, { 'x-roles'?: string[] }>>)) {
    const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => {
      expect(PARAMS[name], `a value for {${name}}`).toBeDefined();
      return PARAMS[name]!;
    });
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'put', 'post', 'delete'].includes(method)) continue;
      out.push({ method: method.toUpperCase(), path, roles: op['x-roles'] ?? [] });
    }
  }
  return out;
}

describe('issue 6 audit', () => {
  it('answers 401 on every documented route without credentials, and 403 to a user on every route not theirs', async () => {
    const user = h.client(USER);
    const ops = (await operations()).filter((op) => op.path !== '/conference/v1/openapi.json');
    expect(ops.length).toBeGreaterThan(40);
    const before = (await h.api('GET', '/conference/v1/meetingRooms?limit=1000')).text;
    for (const op of ops) {
      const body = op.method === 'PUT' || op.method === 'POST' ? { body: {} } : {};
      const anonymous = await h.api(op.method, op.path, { auth: null, ...body });
      expect(anonymous.status, `${op.method} ${op.path}`).toBe(401);
      expect(anonymous.headers['www-authenticate'], `${op.method} ${op.path}`).toMatch(/^Basic/);
      expect(anonymous.json.errors[0].field).toBe('cause');
      expect(op.roles.length, `${op.method} ${op.path} has x-roles`).toBeGreaterThan(0);
      if (!op.roles.includes('user')) {
        const refused = await user(op.method, op.path, body);
        expect(refused.status, `${op.method} ${op.path} as a user`).toBe(403);
        expect(refused.json.message).toBe('permission denied');
      }
    }
    // None of it changed anything.
    expect((await h.api('GET', '/conference/v1/meetingRooms?limit=1000')).text).toBe(before);
  });

  it('filters and pages as seed 004\'s examples do: ne, ge, le, lt, quoted words, the default limit of 10', async () => {
    const group = await h.api('POST', '/conference/v1/didGroups', { body: { name: 'audit group', description: 'my mediator' } });
    expect(group.status).toBe(200);
    const numbers = Array.from({ length: 12 }, (_, i) => String(15550400 + i));
    for (const n of numbers) expect((await h.api('POST', '/conference/v1/dids', { body: { didGroupId: group.json.id, phoneNumber: n } })).status).toBe(200);
    const inGroup = `didGroupId eq ${group.json.id}`;
    const q = async (query: string) => {
      const res = await h.api('GET', `/conference/v1/dids?${query}`);
      expect(res.status, res.text).toBe(200);
      return res.json;
    };
    const phones = (json: { dids: Array<{ phoneNumber: string }> }) => json.dids.map((d) => d.phoneNumber);
    // No limit: 10 items, total says how many match.
    const first = await q(`filter=${encodeURIComponent(inGroup)}`);
    expect(first).toMatchObject({ total: 12, offset: 0, last: 9 });
    expect(phones(first)).toEqual(numbers.slice(0, 10));
    // The page after the last is empty, not an error.
    expect(phones(await q(`offset=12&filter=${encodeURIComponent(inGroup)}`))).toEqual([]);
    const f = async (filter: string) => phones(await q(`limit=1000&filter=${encodeURIComponent(`${inGroup} and ${filter}`)}`));
    expect(await f('phoneNumber ne 15550400')).toHaveLength(11);
    expect(await f('phoneNumber ge 15550410')).toEqual(['15550410', '15550411']);
    expect(await f('phoneNumber le 15550401')).toEqual(['15550400', '15550401']);
    expect(await f('phoneNumber lt 15550401')).toEqual(['15550400']);
    expect(await f('phoneNumber like "%5550411"')).toEqual(['15550411']);
    // 004: `name eq "filter value name"`: several words need quotes.
    const named = await h.api('GET', `/conference/v1/didGroups?filter=${encodeURIComponent('name eq "audit group"')}`);
    expect(named.json.didGroups.map((g: { id: number }) => g.id)).toEqual([group.json.id]);
    const unquoted = await h.api('GET', `/conference/v1/didGroups?filter=${encodeURIComponent('name eq audit group')}`);
    expect(unquoted.status).toBe(400);
    expect(unquoted.json.errors[0].field).toBe('filter');
    // 004: `status in ("active", "suspended")`, `name ilike "AccOUnt%"`.
    expect((await h.api('GET', `/conference/v1/didGroups?filter=${encodeURIComponent('description ilike "MY MED%" and name in ("audit group", "other")')}`)).json.total).toBe(1);
    // Seed 004's page: offset=2&limit=2&order=<field>+desc.
    const page = await q(`offset=2&limit=2&order=phoneNumber+desc&filter=${encodeURIComponent(inGroup)}`);
    expect(phones(page)).toEqual(['15550409', '15550408']);
    expect(page).toMatchObject({ offset: 2, total: 12, last: 3 });
    const asc = await q(`limit=2&order=phoneNumber&filter=${encodeURIComponent(inGroup)}`);
    expect(phones(asc)).toEqual(['15550400', '15550401']);
    // limit=0 counts without listing.
    const counted = await q(`limit=0&filter=${encodeURIComponent(inGroup)}`);
    expect(counted).toMatchObject({ dids: [], total: 12 });
    for (const bad of ['limit=1001', 'limit=-1', 'offset=-1', 'limit=abc', 'order=phoneNumber+sideways']) {
      const res = await h.api('GET', `/conference/v1/dids?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.json.errors[0].field, bad).toBe(bad.split('=')[0]);
    }
  });

  it('refuses non-JSON (415), unknown fields and bad values (422) on the live routes, naming the problem', async () => {
    const cases: Array<[string, string, Parameters<typeof h.api>[2], number, string]> = [
      ['PUT', '/conference/v1/meetings/1000', { rawBody: 'action=lock', contentType: 'application/x-www-form-urlencoded' }, 415, 'Content-Type'],
      ['PUT', '/conference/v1/calls/1', { rawBody: '{"muteMode": 40}', contentType: 'text/plain' }, 415, 'Content-Type'],
      ['PUT', '/conference/v1/meetings/1000/participants', { rawBody: '{"action": "mute"}', contentType: null }, 415, 'Content-Type'],
      ['PUT', '/conference/v1/meetings/1000', { body: { action: 'lock', force: true } }, 422, 'force'],
      ['PUT', '/conference/v1/meetings/1000', { body: { action: 'explode' } }, 422, 'action'],
      ['PUT', '/conference/v1/meetings/1000/participants', { body: { action: 'mute', who: 'all' } }, 422, 'who'],
      ['PUT', '/conference/v1/calls/1', { body: { muteMode: 'on' } }, 422, 'muteMode'],
      ['PUT', '/conference/v1/calls/1', { body: { id: 5 } }, 422, 'id'],
      ['POST', '/conference/v1/meetings/1000/calls', { body: { number: '+15551230003', role: 9 } }, 422, 'role'],
      ['PUT', '/conference/v1/meetings/1000/attributes/conference_entrytones', { body: { value: { nested: 1 } } }, 422, 'value'],
      ['PUT', '/conference/v1/meetings/1000', { rawBody: '{"action": "lock"' }, 400, 'body'],
    ];
    for (const [method, path, options, status, field] of cases) {
      const res = await h.api(method, path, options);
      expect(res.status, `${method} ${path} ${res.text}`).toBe(status);
      expect(res.json.errors.map((e: { field: string }) => e.field), `${method} ${path}`).toContain(field);
    }
    // With no meeting live, the well-formed requests are 404s: validation did not hide them.
    expect((await h.api('PUT', '/conference/v1/meetings/1000', { body: { action: 'lock' } })).status).toBe(404);
    expect((await h.api('PUT', '/conference/v1/calls/1', { body: { muteMode: 40 } })).status).toBe(404);
  });

  it('applies a room attribute changed over the API to the next caller, without a restart', async () => {
    const sink = await RtpSink.open(21880);
    const call = (name: string, sipPort: number, mediaPort: number) =>
      runCaller(
        {
          dialed: '15550100',
          rtpPort: sink.port,
          steps: [{ kind: 'pause', ms: 500 }, { kind: 'pcap', path: h.media.digits(name, '2222#') }, { kind: 'expectBye', timeoutMs: 30_000 }],
        },
        { serverPort: PORTS.sip, sipPort, mediaPort, timeoutSeconds: 60 },
      );
    const joinedMuteMode = async (run: ReturnType<typeof call>): Promise<number> => {
      await waitFor(() => h.server.app.conferenceManager.getMeeting(1000)?.participants.length === 1, 20_000, 'the caller in meeting 1000', [run]);
      const calls = (await h.api('GET', '/conference/v1/calls')).json.calls;
      expect((await h.api('DELETE', '/conference/v1/meetings/1000')).status).toBe(204);
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      await waitFor(() => h.server.app.conferenceManager.meetings.length === 0, 5000, 'the meeting to end');
      return calls[0].muteMode;
    };
    try {
      // Seed 004 conference_mute_policy: the roles muted on entry; "p": participants.
      const set = await h.api('PUT', '/conference/v1/meetingRooms/1000', { body: { attributes: [{ name: 'conference_mute_policy', value: 'p' }] } });
      expect(set.status, set.text).toBe(200);
      expect(await joinedMuteMode(call('early', 21061, 21860))).toBe(40);
      const cleared = await h.api('PUT', '/conference/v1/meetingRooms/1000', { body: { attributes: [{ name: 'conference_mute_policy', value: null }] } });
      expect(cleared.status, cleared.text).toBe(200);
      expect(await joinedMuteMode(call('later', 21062, 21870))).toBe(0);
    } finally {
      sink.close();
    }
  });

  it('lets a user see and drive only their own live meeting and its calls; others answer 404 and stay as they were', async () => {
    const groups = await h.api('GET', '/conference/v1/didGroups');
    const user = h.client(USER);
    const sid = (await user('GET', '/conference/v1/subscribers/whoami')).json.sid;
    const assigned = await h.api('PUT', `/conference/v1/subscribers/${sid}`, { body: { didGroupReferences: [{ didGroupId: groups.json.didGroups[0].id, state: 0 }] } });
    expect(assigned.status, assigned.text).toBe(200);
    const room = await user('POST', '/conference/v1/meetingRooms', {
      body: { primaryDidGroupId: groups.json.didGroups[0].id, meetingNumber: 7100, keychain: [{ accessCode: '7111', role: 2 }] },
    });
    expect(room.status, room.text).toBe(201);
    const sinks = await Promise.all([RtpSink.open(21884), RtpSink.open(21886)]);
    const runs = [
      ['olga', '2222#'],
      ['uli', '7111#'],
    ].map(([name, code], i) =>
      runCaller(
        {
          dialed: '15550100',
          rtpPort: sinks[i]!.port,
          steps: [{ kind: 'pause', ms: 500 }, { kind: 'pcap', path: h.media.digits(name!, code!) }, { kind: 'expectBye', timeoutMs: 60_000 }],
        },
        { serverPort: PORTS.sip, sipPort: 21063 + i, mediaPort: 21890 + 6 * i, timeoutSeconds: 90 },
      ),
    );
    try {
      const conference = h.server.app.conferenceManager;
      await waitFor(() => conference.getMeeting(1000)?.participants.length === 1 && conference.getMeeting(7100)?.participants.length === 1, 20_000, 'one caller in each meeting', runs);
      const otherId = conference.getMeeting(1000)!.participants[0]!.id;
      const ownId = conference.getMeeting(7100)!.participants[0]!.id;

      expect((await user('GET', '/conference/v1/meetings')).json.meetings.map((m: { meetingNumber: number }) => m.meetingNumber)).toEqual([7100]);
      expect((await user('GET', '/conference/v1/calls')).json.calls.map((c: { id: number }) => c.id)).toEqual([ownId]);
      // Another owner's meeting and call do not exist for this user, whatever the verb.
      const refused: Array<[string, string, unknown?]> = [
        ['GET', '/conference/v1/meetings/1000'],
        ['PUT', '/conference/v1/meetings/1000', { action: 'lock' }],
        ['DELETE', '/conference/v1/meetings/1000'],
        ['GET', '/conference/v1/meetings/1000/participants'],
        ['PUT', '/conference/v1/meetings/1000/participants', { action: 'kick' }],
        ['PUT', `/conference/v1/meetings/1000/participants/${otherId}`, { action: 'mute' }],
        ['PUT', '/conference/v1/meetings/1000/attributes/conference_entrytones', { value: 'off' }],
        ['GET', `/conference/v1/calls/${otherId}`],
        ['PUT', `/conference/v1/calls/${otherId}`, { muteMode: 40 }],
        ['DELETE', `/conference/v1/calls/${otherId}`],
      ];
      for (const [method, path, body] of refused) {
        const res = await user(method, path, body === undefined ? {} : { body });
        expect(res.status, `${method} ${path}`).toBe(404);
      }
      const other = (await h.api('GET', '/conference/v1/meetings/1000')).json;
      expect(other).toMatchObject({ isLocked: false, participantCount: 1 });
      expect((await h.api('GET', `/conference/v1/calls/${otherId}`)).json.muteMode).toBe(0);
      // Their own: readable and drivable.
      expect((await user('PUT', `/conference/v1/calls/${ownId}`, { body: { muteMode: 40 } })).json).toMatchObject({ id: ownId, muteMode: 40 });
      expect((await user('PUT', '/conference/v1/meetings/7100', { body: { action: 'lock' } })).json).toMatchObject({ isLocked: true });
      expect((await user('DELETE', '/conference/v1/meetings/7100')).status).toBe(204);
      expect((await h.api('DELETE', '/conference/v1/meetings/1000')).status).toBe(204);
      for (const run of runs) {
        const result = await run.done;
        expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      }
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  });

  it('keeps passwords only as scrypt hashes: no plaintext anywhere in the data directory', async () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
    const stored = Buffer.concat(files(h.server.config.dataDir).map((f) => readFileSync(f)));
    expect(stored.length).toBeGreaterThan(0);
    for (const secret of [h.admin[1], USER[1]]) expect(stored.includes(Buffer.from(secret)), secret).toBe(false);
    expect(stored.includes(Buffer.from('scrypt$'))).toBe(true);
    // The API never shows a hash either.
    const listed = (await h.api('GET', '/conference/v1/subscribers?limit=1000')).text;
    expect(listed).not.toMatch(/scrypt|password/);
  });

  it('closes a feed client that sends an oversize message (1009) and ignores small ones; other clients stay', async () => {
    const chatty = await h.feed('/conference/v1/events');
    const flooder = await h.feed('/conference/v1/events');
    const quiet = await h.feed('/conference/v1/events');
    const closeCode = new Promise<number>((resolve) => flooder.socket.once('close', (code) => resolve(code)));
    try {
      chatty.socket.send('{"action": "lock"}');
      flooder.socket.send(Buffer.alloc(10_000, 0x61));
      expect(await closeCode).toBe(1009);
      await sleep(300);
      expect(chatty.closed).toBe(false);
      expect(quiet.closed).toBe(false);
      expect(chatty.events).toEqual([]);
      // Nothing the client sent acted on anything.
      expect((await h.api('GET', '/conference/v1/meetings')).json.total).toBe(0);
    } finally {
      for (const feed of [chatty, flooder, quiet]) feed.socket.close();
    }
  });
});
