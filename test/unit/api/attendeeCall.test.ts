/**
 * The attendee call-out route (seed 000) over real HTTP against a live
 * meeting with a real media leg, through the Dialer port. The SIP layer's
 * dialer is wired by Application; here a recording Dialer stands at the
 * port so the route's contract is checked: what it asks the dialer for,
 * what it answers, and that refused requests never reach the dialer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlApi } from '../../../src/api/ControlApi.js';
import { DialError, type DialRequest, type Dialer } from '../../../src/api/Dialer.js';
import { HttpServer } from '../../../src/api/HttpServer.js';
import { hashPassword } from '../../../src/api/passwords.js';
import { ConferenceManager } from '../../../src/conference/ConferenceManager.js';
import { createRootLogger } from '../../../src/log.js';
import { MediaEngine } from '../../../src/media/MediaEngine.js';
import { SqliteStore } from '../../../src/store/SqliteStore.js';
import { apiClient } from '../../e2e/apiClient.js';

const HTTP_PORT = 25995;

class RecordingDialer implements Dialer {
  readonly requests: DialRequest[] = [];
  failWith: string | undefined;
  async dial(request: DialRequest) {
    if (this.failWith) throw new DialError(this.failWith);
    this.requests.push(request);
    return { callId: `out-${this.requests.length}@bridge` };
  }
}

const logger = createRootLogger('silent');
let media: MediaEngine;
let store: SqliteStore;
let http: HttpServer;
const dialer = new RecordingDialer();
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  media = await MediaEngine.create({ bindAddress: '127.0.0.1', rtpPortMin: 24820, rtpPortMax: 24849 });
  store = SqliteStore.open(':memory:');
  store.createSubscriber({ login: 'admin', passwordHash: await hashPassword('admin-password'), role: 'administrator' });
  store.createSubscriber({ login: 'user', passwordHash: await hashPassword('user-password'), role: 'user' });
  const group = store.createDidGroup({ name: 'g' });
  const room = store.createMeetingRoom({ meetingNumber: 5000, primaryDidGroupId: group.id, keychain: [{ accessCode: '5000', role: 'host' }] });
  const conference = new ConferenceManager(media, logger);
  const leg = media.createLeg({ callId: 'in-1@test', codec: 'PCMU', payloadType: 0 });
  conference.join(room, { callId: 'in-1@test', role: 'host', accessCode: '5000', caller: '15550001', callee: '15550100', leg });
  const control = new ControlApi({ store, conference, logger, maxCodeLength: 16, dialer });
  http = await HttpServer.listen({ bindAddress: '127.0.0.1', port: HTTP_PORT, logger, health: () => ({ status: 'ok', meetings: 0, legs: 0 }), api: control });
  api = apiClient(HTTP_PORT, ['admin', 'admin-password']);
});

afterAll(async () => {
  await http?.close();
  await media?.close();
  store?.close();
});

describe('POST /meetings/{n}/calls', () => {
  it('asks the dialer for the normalized number, role and name, and answers 202 with its Call-ID', async () => {
    const answer = await api('POST', '/conference/v1/meetings/5000/calls', { body: { number: '+1 (555) 123-0009', role: 3, customName: 'Bob' } });
    expect(answer.status, answer.text).toBe(202);
    expect(answer.json).toEqual({ callId: 'out-1@bridge', number: '15551230009', meetingNumber: 5000, role: 3, state: 4 });
    expect(dialer.requests).toEqual([{ number: '15551230009', meetingNumber: 5000, role: 'listener', customName: 'Bob' }]);
    const byDefault = await api('POST', '/conference/v1/meetings/5000/calls', { body: { number: '15551230010' } });
    expect(byDefault.json.role).toBe(2);
    expect(dialer.requests[1]).toMatchObject({ role: 'participant', customName: '' });
  });

  it('refuses bad requests before dialing, and reports a call that cannot be placed', async () => {
    const before = dialer.requests.length;
    expect((await api('POST', '/conference/v1/meetings/5000/calls', { body: { number: '12' } })).status).toBe(422);
    expect((await api('POST', '/conference/v1/meetings/5000/calls', { body: { number: 15551230011 } })).status).toBe(422);
    expect((await api('POST', '/conference/v1/meetings/5000/calls', { body: { number: '15551230011', role: 9 } })).status).toBe(422);
    expect((await api('POST', '/conference/v1/meetings/5001/calls', { body: { number: '15551230011' } })).status).toBe(404);
    const user = apiClient(HTTP_PORT, ['user', 'user-password']);
    expect((await user('POST', '/conference/v1/meetings/5000/calls', { body: { number: '15551230011' } })).status).toBe(404);
    expect(dialer.requests.length).toBe(before);

    dialer.failWith = 'no outbound trunk is configured';
    const failed = await api('POST', '/conference/v1/meetings/5000/calls', { body: { number: '15551230011' } });
    dialer.failWith = undefined;
    expect(failed.status).toBe(503);
    expect(failed.json.errors[0]).toMatchObject({ field: 'cause', message: 'no outbound trunk is configured' });
  });
});
