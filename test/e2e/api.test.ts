/**
 * The REST control API over real HTTP against a running server: contract,
 * authentication and roles, CRUD with seed 004's field names and status
 * codes, pagination / filtering / field filtering, and bad input that must
 * be refused with a 4xx naming the problem while changing nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as S from '../../src/api/schemas.js';
import { apiHarness } from '../support/apiHarness.js';
import { startTestServer } from '../support/testServer.js';
import { apiClient } from './apiClient.js';

const PORTS = { sip: 25360, http: 25380, rtpMin: 45000, rtpMax: 45099 };
const h = apiHarness({ ports: PORTS, adminPassword: 'correct horse battery' });

function expectError(body: unknown, field: string | null, pattern?: RegExp): void {
  const error = body as { message: string; errors: Array<{ field: string | null; message: string; reference_sid: null }> };
  expect(typeof error.message).toBe('string');
  expect(Array.isArray(error.errors)).toBe(true);
  const match = error.errors.find((e) => e.field === field);
  expect(match, JSON.stringify(body)).toBeDefined();
  expect(match!.reference_sid).toBeNull();
  if (pattern) expect(match!.message).toMatch(pattern);
}

describe('control API contract', () => {
  it('publishes an OpenAPI 3 document generated from the request schemas', async () => {
    const res = await h.api('GET', '/conference/v1/openapi.json', { auth: null });
    expect(res.status).toBe(200);
    expect(res.json.openapi).toMatch(/^3\./);
    const post = res.json.paths['/conference/v1/dids'].post;
    expect(post.requestBody.content['application/json'].schema).toEqual(S.didCreate.toJsonSchema());
    expect(post.requestBody.content['application/json'].schema.additionalProperties).toBe(false);
    for (const path of ['/conference/v1/meetingRooms/{meetingNumber}/keychain', '/conference/v1/calls/{id}', '/conference/v1/meetings/{meetingNumber}/participants']) {
      expect(res.json.paths[path], path).toBeDefined();
    }
    // The newer routes come from the same schemas, and the non-JSON parts are described too.
    const subscriberPut = res.json.paths['/conference/v1/subscribers/{sid}'].put;
    expect(subscriberPut.requestBody.content['application/json'].schema).toEqual(S.subscriberUpdate.toJsonSchema());
    expect(subscriberPut.requestBody.content['application/json'].schema.properties.callback).toBeDefined();
    expect(res.json.paths['/conference/v1/meetings/{meetingNumber}/callers/{number}'].put).toBeDefined();
    expect(res.json.paths['/conference/v1/meetings/{meetingNumber}/calls'].post.requestBody.content['application/json'].schema).toEqual(S.attendeeCall.toJsonSchema());
    expect(res.json.paths['/conference/v1/meetings/{meetingNumber}/attributes/{name}'].put).toBeDefined();
    expect(res.json.paths['/conference/v1/subscribers/{sid}/meetingRooms'].get).toBeDefined();
    expect(res.json.paths['/conference/v1/subscribers/{sid}/files'].post.requestBody.content['multipart/form-data']).toBeDefined();
    expect(res.json.paths['/conference/v1/events'].get['x-websocket']).toBe(true);
    expect(res.json.paths['/conference/v1/meetings/{meetingNumber}/events'].get).toBeDefined();
    expect(res.json.paths['/metrics'].get['x-roles']).toEqual(['administrator', 'operator']);
  });
});

describe('authentication and roles', () => {
  it('answers 401 without credentials and with a wrong password, in the seed 004 shape', async () => {
    const none = await h.api('GET', '/conference/v1/dids', { auth: null });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toMatch(/^Basic/);
    expect(none.json.message).toBe('authentication required');
    expectError(none.json, 'cause');
    const wrong = await h.api('GET', '/conference/v1/dids', { auth: ['admin', 'not the password'] });
    expect(wrong.status).toBe(401);
    expectError(wrong.json, 'cause', /bad credentials/);
    const nobody = await h.api('GET', '/conference/v1/dids', { auth: ['nobody', 'whatever1'] });
    expect(nobody.status).toBe(401);
  });

  it('lets the administrator see itself, and users only their own rooms (403 on configuration writes)', async () => {
    const me = await h.api('GET', '/conference/v1/subscribers/whoami');
    expect(me.status).toBe(200);
    expect(me.json).toMatchObject({ login: 'admin', role: 1 });
    expect(me.json.password).toBeUndefined();

    const created = await h.api('POST', '/conference/v1/subscribers', { body: { login: 'ursula', password: 'user-password-1', role: 3, firstName: 'Ursula' } });
    expect(created.status).toBe(200);
    expect(created.json).toMatchObject({ login: 'ursula', role: 3, parentSid: me.json.sid });
    const user = h.client(['ursula', 'user-password-1']);

    const forbidden = await user('POST', '/conference/v1/dids', { body: { didGroupId: 1, phoneNumber: '15550199' } });
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.message).toBe('permission denied');
    expectError(forbidden.json, 'cause');
    expect((await user('GET', '/conference/v1/subscribers')).status).toBe(403);
    expect((await user('POST', '/conference/v1/subscribers', { body: { login: 'x', password: 'yyyyyyyy' } })).status).toBe(403);

    // The provisioned room belongs to nobody: invisible to a user.
    expect((await user('GET', '/conference/v1/meetingRooms/1000')).status).toBe(404);
    // A user creates rooms only on DID groups an administrator assigned them.
    const unassigned = await user('POST', '/conference/v1/meetingRooms', {
      body: { primaryDidGroupId: 1, meetingNumber: 7001, keychain: [{ accessCode: '70011', role: 1 }] },
    });
    expect(unassigned.status).toBe(403);
    expectError(unassigned.json, 'primaryDidGroupId');
    expect((await h.api('GET', '/conference/v1/meetingRooms/7001')).status).toBe(404);
    const selfAssign = await user('PUT', `/conference/v1/subscribers/${created.json.sid}`, { body: { didGroupReferences: [{ didGroupId: 1, state: 0 }] } });
    expect(selfAssign.status).toBe(403);
    const badGroup = await h.api('PUT', `/conference/v1/subscribers/${created.json.sid}`, { body: { didGroupReferences: [{ didGroupId: 999, state: 0 }] } });
    expect(badGroup.status).toBe(422);
    expectError(badGroup.json, 'didGroupReferences');
    const assigned = await h.api('PUT', `/conference/v1/subscribers/${created.json.sid}`, { body: { didGroupReferences: [{ didGroupId: 1, state: 0 }] } });
    expect(assigned.status).toBe(200);
    expect(assigned.json.didGroupReferences).toEqual([{ didGroupId: 1, state: 0 }]);
    const own = await user('POST', '/conference/v1/meetingRooms', {
      body: { primaryDidGroupId: 1, meetingNumber: 7001, keychain: [{ accessCode: '70011', role: 1 }] },
    });
    expect(own.status).toBe(201);
    expect(own.json.subscriberSid).toBe(created.json.sid);
    const list = await user('GET', '/conference/v1/meetingRooms');
    expect(list.json.meetingRooms.map((r: { meetingNumber: number }) => r.meetingNumber)).toEqual([7001]);
    // A user cannot raise its own role.
    const raise = await user('PUT', `/conference/v1/subscribers/${created.json.sid}`, { body: { role: 1 } });
    expect(raise.status).toBe(403);
    expect((await user('DELETE', '/conference/v1/meetingRooms/7001')).status).toBe(204);
  });

  it('answers 503 with the reason when no administrator password is configured, and applies a changed ADMIN_PASSWORD on restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'api-bootstrap-'));
    const ports = { sip: 25362, http: 25382, rtpMin: 45100, rtpMax: 45149 };
    try {
      let other = await startTestServer(ports, undefined, {}, dataDir);
      const client = apiClient(ports.http, ['admin', 'first-password']);
      const refused = await client('GET', '/conference/v1/dids');
      expect(refused.status).toBe(503);
      expectError(refused.json, 'cause', /ADMIN_PASSWORD/);
      await other.stop();

      other = await startTestServer(ports, undefined, { ADMIN_PASSWORD: 'first-password' }, dataDir);
      expect((await client('GET', '/conference/v1/dids')).status).toBe(200);
      await other.stop();

      other = await startTestServer(ports, undefined, { ADMIN_PASSWORD: 'second-password' }, dataDir);
      expect((await client('GET', '/conference/v1/dids')).status).toBe(401);
      expect((await apiClient(ports.http, ['admin', 'second-password'])('GET', '/conference/v1/dids')).status).toBe(200);
      await other.stop();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('configuration CRUD', () => {
  it('creates, reads, updates and deletes DID groups, DIDs and meeting rooms with seed 004 fields and codes', async () => {
    const group = await h.api('POST', '/conference/v1/didGroups', { body: { name: 'crud', callFlowId: 3, description: 'CRUD group' } });
    expect(group.status).toBe(200);
    expect(group.json).toMatchObject({ name: 'crud', callFlowId: 3, description: 'CRUD group', attributes: [], dids: [], state: -1 });
    const groupId: number = group.json.id;

    const did = await h.api('POST', '/conference/v1/dids', { body: { didGroupId: groupId, phoneNumber: '+15162065319' } });
    expect(did.status).toBe(200);
    expect(did.json).toMatchObject({ didGroupId: groupId, phoneNumber: '15162065319', countryCode: 'US', state: -1, attributes: [] });

    const dup = await h.api('POST', '/conference/v1/dids', { body: { didGroupId: groupId, phoneNumber: '15162065319' } });
    expect(dup.status).toBe(409);
    expect(dup.json.message).toBe('conflict');

    const updated = await h.api('PUT', `/conference/v1/dids/${did.json.id}`, { body: { description: 'DID new description' } });
    expect(updated.status).toBe(200);
    expect(updated.json).toMatchObject({ description: 'DID new description', phoneNumber: '15162065319' });

    const room = await h.api('POST', '/conference/v1/meetingRooms', {
      body: {
        primaryDidGroupId: groupId,
        meetingNumber: 273751,
        description: 'Test Meeting',
        keychain: [{ accessCode: '463516', role: 3 }],
        attributes: [{ name: 'call_maxduration', value: 120 }],
      },
    });
    expect(room.status).toBe(201);
    expect(room.json).toMatchObject({
      meetingNumber: 273751,
      primaryDidGroupId: groupId,
      didGroupReferences: [{ didGroupId: groupId, state: 0 }],
      keychain: [{ accessCode: '463516', role: 3 }],
      attributes: [{ name: 'call_maxduration', value: '120', description: 'The maximum duration of the call.' }],
    });
    expect(typeof room.json.keychain[0].id).toBe('number');

    // Keychain sub-resource.
    const key = await h.api('POST', '/conference/v1/meetingRooms/273751/keychain', { body: { accessCode: '3141591', role: 2 } });
    expect(key.status).toBe(200);
    expect(key.json).toMatchObject({ accessCode: '3141591', role: 2, meetingRoomId: 273751 });
    const clash = await h.api('POST', '/conference/v1/meetingRooms/273751/keychain', { body: { accessCode: '3141591', role: 1 } });
    expect(clash.status).toBe(409);
    const keys = await h.api('GET', '/conference/v1/meetingRooms/273751/keychain');
    expect(keys.json.map((k: { accessCode: string }) => k.accessCode)).toEqual(['463516', '3141591']);
    const changedKey = await h.api('PUT', `/conference/v1/meetingRooms/273751/keychain/${key.json.id}`, { body: { role: 3 } });
    expect(changedKey.json).toMatchObject({ accessCode: '3141591', role: 3 });
    expect((await h.api('DELETE', `/conference/v1/meetingRooms/273751/keychain/${key.json.id}`)).status).toBe(204);
    expect((await h.api('GET', `/conference/v1/meetingRooms/273751/keychain/${key.json.id}`)).status).toBe(404);

    // A code that already opens another room on the same DID group is a conflict.
    const other = await h.api('POST', '/conference/v1/meetingRooms', { body: { primaryDidGroupId: groupId, meetingNumber: 273752, keychain: [{ accessCode: '463516', role: 1 }] } });
    expect(other.status).toBe(409);
    // ... that does not say which room the code opens: subscribers must not map each other's rooms.
    expect(JSON.stringify(other.json)).toContain('463516');
    expect(JSON.stringify(other.json)).not.toContain('273751');
    expect((await h.api('GET', '/conference/v1/meetingRooms/273752')).status).toBe(404);

    const put = await h.api('PUT', '/conference/v1/meetingRooms/273751', { body: { description: 'Another description' } });
    expect(put.json).toMatchObject({ description: 'Another description', keychain: [{ accessCode: '463516', role: 3 }] });

    // The group is in use: deleting it is a conflict until its DID and room are gone.
    expect((await h.api('DELETE', `/conference/v1/didGroups/${groupId}`)).status).toBe(409);
    expect((await h.api('DELETE', '/conference/v1/meetingRooms/273751')).status).toBe(204);
    expect((await h.api('DELETE', `/conference/v1/dids/${did.json.id}`)).status).toBe(204);
    expect((await h.api('DELETE', `/conference/v1/didGroups/${groupId}`)).status).toBe(204);

    const gone = await h.api('GET', `/conference/v1/dids/${did.json.id}`);
    expect(gone.status).toBe(404);
    expect(gone.json.message).toBe('no item error');
    expectError(gone.json, null, /cannot find DID/);
  });

  it('lists the call flows CONF and SPECTEL with their attribute templates', async () => {
    const res = await h.api('GET', '/conference/v1/callFlows?exclude_fields=attributeTemplates');
    expect(res.status).toBe(200);
    expect(res.json).toEqual({
      callFlows: [
        { id: 1, name: 'SPECTEL', path: 'callflows/SPECTEL' },
        { id: 3, name: 'CONF', path: 'callflows/CONF' },
      ],
      last: 1,
      offset: 0,
      total: 2,
    });
    const conf = await h.api('GET', '/conference/v1/callFlows/3');
    expect(conf.json.attributeTemplates.find((t: { name: string }) => t.name === 'conference_lock_dtmf')).toMatchObject({ type: 0, group: 5 });
  });
});

describe('pagination, result filtering and field filtering', () => {
  let groupId: number;

  beforeAll(async () => {
    const group = await h.api('POST', '/conference/v1/didGroups', { body: { name: 'paging' } });
    groupId = group.json.id;
    for (const n of ['15550201', '15550202', '15555503', '15550204', '15550205']) {
      const res = await h.api('POST', '/conference/v1/dids', { body: { didGroupId: groupId, phoneNumber: n, description: n.endsWith('3') ? 'Main Line' : '' } });
      expect(res.status).toBe(200);
    }
  });

  it('pages with offset, limit and order like seed 004', async () => {
    const res = await h.api('GET', `/conference/v1/dids?offset=2&limit=2&order=phoneNumber+desc&filter=${encodeURIComponent(`didGroupId eq ${groupId}`)}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ offset: 2, total: 5, last: 3 });
    expect(res.json.dids.map((d: { phoneNumber: string }) => d.phoneNumber)).toEqual(['15550204', '15550202']);
    const tooMany = await h.api('GET', '/conference/v1/dids?limit=1001');
    expect(tooMany.status).toBe(400);
    expectError(tooMany.json, 'limit', /1000/);
    const badOrder = await h.api('GET', '/conference/v1/dids?order=nope+desc');
    expect(badOrder.status).toBe(400);
    expectError(badOrder.json, 'order', /nope/);
  });

  it('filters with eq, like, ilike, in, notin, gt and and', async () => {
    const q = async (filter: string): Promise<string[]> => {
      const res = await h.api('GET', `/conference/v1/dids?limit=1000&filter=${encodeURIComponent(`didGroupId eq ${groupId} and ${filter}`)}`);
      expect(res.status, res.text).toBe(200);
      return res.json.dids.map((d: { phoneNumber: string }) => d.phoneNumber);
    };
    expect(await q('phoneNumber like "%555%"')).toHaveLength(5);
    expect(await q('phoneNumber like "%5555%"')).toEqual(['15555503']);
    expect(await q('description ilike "main%"')).toEqual(['15555503']);
    expect(await q('description like "main%"')).toEqual([]);
    expect(await q('phoneNumber in ("15550201", "15550205")')).toEqual(['15550201', '15550205']);
    expect(await q('phoneNumber notin ("15550201", "15550205")')).toHaveLength(3);
    expect(await q('phoneNumber gt 15550204')).toEqual(['15555503', '15550205']);
    expect(await q("description eq 'Main Line'")).toEqual(['15555503']);
  });

  it('filters on nested fields with a dot', async () => {
    const res = await h.api('GET', `/conference/v1/meetingRooms?filter=${encodeURIComponent('keychain.accessCode eq 3333')}`);
    expect(res.status).toBe(200);
    expect(res.json.meetingRooms.map((r: { meetingNumber: number }) => r.meetingNumber)).toEqual([1000]);
    const roles = await h.api('GET', `/conference/v1/meetingRooms?filter=${encodeURIComponent('didGroupReferences.didGroupId eq 1 and keychain.role eq 3')}`);
    expect(roles.json.total).toBe(1);
  });

  it('includes and excludes fields', async () => {
    const excluded = await h.api('GET', '/conference/v1/meetingRooms?exclude_fields=attributes');
    expect(excluded.json.meetingRooms[0].attributes).toBeUndefined();
    expect(excluded.json.meetingRooms[0].keychain).toBeDefined();
    const included = await h.api('GET', `/conference/v1/dids?include_fields=id,phoneNumber&limit=1`);
    expect(Object.keys(included.json.dids[0]).sort()).toEqual(['id', 'phoneNumber']);
    const single = await h.api('GET', '/conference/v1/meetingRooms/1000?include_fields=meetingNumber');
    expect(single.json).toEqual({ meetingNumber: 1000 });
    const unknown = await h.api('GET', '/conference/v1/dids?include_fields=secret');
    expect(unknown.status).toBe(400);
    expectError(unknown.json, 'include_fields', /secret/);
  });
});

describe('bad input is refused with a 4xx naming the problem and changes nothing', () => {
  const snapshot = async (): Promise<string> => {
    const [groups, dids, rooms, subs] = await Promise.all([
      h.api('GET', '/conference/v1/didGroups?limit=1000'),
      h.api('GET', '/conference/v1/dids?limit=1000'),
      h.api('GET', '/conference/v1/meetingRooms?limit=1000'),
      h.api('GET', '/conference/v1/subscribers?limit=1000'),
    ]);
    return JSON.stringify([groups.json, dids.json, rooms.json, subs.json]);
  };

  it('malformed JSON → 400', async () => {
    const before = await snapshot();
    const res = await h.api('POST', '/conference/v1/dids', { rawBody: '{"didGroupId": 1, "phoneNumber": ' });
    expect(res.status).toBe(400);
    expect(res.json.message).toMatch(/cannot parse json/);
    expectError(res.json, 'body');
    expect(await snapshot()).toBe(before);
  });

  it('wrong types and unknown fields → 422 naming each field', async () => {
    const before = await snapshot();
    const wrong = await h.api('POST', '/conference/v1/dids', { body: { didGroupId: '1', phoneNumber: 15550300, color: 'red' } });
    expect(wrong.status).toBe(422);
    expect(wrong.json.message).toBe('object validation error');
    expectError(wrong.json, 'didGroupId', /integer/);
    expectError(wrong.json, 'phoneNumber', /string/);
    expectError(wrong.json, 'color', /unknown field/);
    const nested = await h.api('PUT', '/conference/v1/meetingRooms/1000', { body: { keychain: [{ accessCode: '12a', role: 7 }] } });
    expect(nested.status).toBe(422);
    expectError(nested.json, 'keychain.0.accessCode');
    expectError(nested.json, 'keychain.0.role');
    const attribute = await h.api('PUT', '/conference/v1/meetingRooms/1000', { body: { attributes: [{ name: 'no_such_attribute', value: 'x' }] } });
    expect(attribute.status).toBe(422);
    expectError(attribute.json, 'attributes.0.name', /unknown attribute/);
    const missingGroup = await h.api('POST', '/conference/v1/dids', { body: { didGroupId: 999, phoneNumber: '15550300' } });
    expect(missingGroup.status).toBe(422);
    expectError(missingGroup.json, 'didGroupId');
    const empty = await h.api('PUT', '/conference/v1/meetingRooms/1000', { body: {} });
    expect(empty.status).toBe(422);
    expect(await snapshot()).toBe(before);
  });

  it('a body that is not JSON → 415', async () => {
    const before = await snapshot();
    const res = await h.api('POST', '/conference/v1/dids', { rawBody: 'didGroupId=1&phoneNumber=15550300', contentType: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
    expectError(res.json, 'Content-Type');
    expect(await snapshot()).toBe(before);
  });

  it('an oversize body → 413 without reading it all', async () => {
    const before = await snapshot();
    const huge = JSON.stringify({ didGroupId: 1, phoneNumber: '15550300', description: 'x'.repeat(200_000) });
    const res = await h.api('POST', '/conference/v1/dids', { rawBody: huge });
    expect(res.status).toBe(413);
    expectError(res.json, 'body', /at most/);
    expect(await snapshot()).toBe(before);
  });

  it('SQL-looking filters → 400 naming the filter', async () => {
    const before = await snapshot();
    for (const filter of [`phoneNumber eq '1'; DROP TABLE dids; --`, `phoneNumber eq 1 or 1=1`, `id eq 1 union select * from subscribers`]) {
      const res = await h.api('GET', `/conference/v1/dids?filter=${encodeURIComponent(filter)}`);
      expect(res.status, filter).toBe(400);
      expectError(res.json, 'filter');
    }
    // A quoted value is only ever data.
    const quoted = await h.api('GET', `/conference/v1/dids?filter=${encodeURIComponent(`phoneNumber eq "1' OR '1'='1"`)}`);
    expect(quoted.status).toBe(200);
    expect(quoted.json.total).toBe(0);
    expect(await snapshot()).toBe(before);
  });

  it('path traversal → 400', async () => {
    const before = await snapshot();
    for (const path of ['/conference/v1/dids/../subscribers', '/conference/v1/dids/%2e%2e/subscribers', '/conference/v1/meetingRooms/1000%2F..%2F..']) {
      const res = await h.api('DELETE', path);
      expect(res.status, path).toBe(400);
      expectError(res.json, 'path');
    }
    const notNumber = await h.api('DELETE', '/conference/v1/dids/1%20OR%201=1');
    expect(notNumber.status).toBe(400);
    expectError(notNumber.json, 'id');
    expect(await snapshot()).toBe(before);
  });

  it('unknown routes → 404, wrong methods → 405, unknown query parameters → 400', async () => {
    const missing = await h.api('GET', '/conference/v1/nothing');
    expect(missing.status).toBe(404);
    const method = await h.api('PATCH', '/conference/v1/dids');
    expect(method.status).toBe(405);
    expect(method.headers.allow).toMatch(/GET/);
    const query = await h.api('GET', '/conference/v1/dids?drop=1');
    expect(query.status).toBe(400);
    expectError(query.json, 'drop');
  });
});

describe('failed-login limit per client address', () => {
  /** One GET sent from a chosen loopback address, so the lockout does not touch the other tests (127.0.0.1). */
  function getFrom(localAddress: string, auth: [string, string]): Promise<{ status: number; headers: Record<string, unknown>; json: any }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1', port: PORTS.http, localAddress, method: 'GET', path: '/conference/v1/dids',
          headers: { Authorization: `Basic ${Buffer.from(`${auth[0]}:${auth[1]}`).toString('base64')}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : undefined });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('answers 429 with Retry-After in the seed 004 shape after 10 bad logins, even to the right password; other addresses are unaffected', async () => {
    const from = '127.0.0.2';
    for (let i = 0; i < 10; i++) expect((await getFrom(from, ['admin', `guess ${i}`])).status).toBe(401);
    const limited = await getFrom(from, ['admin', 'guess 11']);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.json.message).toBe('too many requests');
    expectError(limited.json, 'cause', /too many failed logins/);
    // Documented choice: the address is locked out until its bucket refills, right password or not.
    expect((await getFrom(from, h.admin)).status).toBe(429);
    expect((await h.api('GET', '/conference/v1/dids')).status).toBe(200);
  });
});
