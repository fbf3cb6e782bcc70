/**
 * The WebSocket event feed against a real sipp caller: the global and the
 * per-meeting feed deliver, in order and numbered, the meeting start, the
 * caller joining, an operator's mute and deaf through the REST API, the
 * caller's tone as start-talking, the hang-up and the meeting end. A user
 * subscriber sees none of another owner's events; bad credentials, unknown
 * rooms and bad paths are refused with the API's error answers.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller } from '../support/sipp.js';
import { apiHarness } from '../support/apiHarness.js';
import { sleep, waitFor } from '../support/wait.js';
import { FeedRefused, type FeedConnection } from './apiClient.js';

const PORTS = { sip: 25800, http: 25900, rtpMin: 24000, rtpMax: 24399 };
const h = apiHarness({ ports: PORTS, adminPassword: 'events-test-password' });
const ADMIN = h.admin;
const USER: [string, string] = ['ursula', 'ursula-password'];

beforeAll(async () => {
  const groups = await h.api('GET', '/conference/v1/didGroups');
  const user = await h.api('POST', '/conference/v1/subscribers', {
    body: { login: USER[0], password: USER[1], role: 3, didGroupReferences: [{ didGroupId: groups.json.didGroups[0].id, state: 0 }] },
  });
  expect(user.status, user.text).toBe(200);
});

async function refusal(path: string, auth: [string, string] | null): Promise<FeedRefused> {
  try {
    const feed = await h.feed(path, auth);
    feed.socket.close();
  } catch (err) {
    if (err instanceof FeedRefused) return err;
    throw err;
  }
  throw new Error(`${path} was accepted`);
}

describe('WebSocket event feed', () => {
  it('refuses missing or bad credentials, unknown rooms, other owners\' rooms and bad paths', async () => {
    const noAuth = await refusal('/conference/v1/events', null);
    expect(noAuth.status).toBe(401);
    expect(JSON.parse(noAuth.body).errors[0].message).toMatch(/authentication required/);
    expect((await refusal('/conference/v1/events', ['admin', 'wrong-password'])).status).toBe(401);
    const unknownRoom = await refusal('/conference/v1/meetings/424242/events', ADMIN);
    expect(unknownRoom.status).toBe(404);
    // Room 1000 comes from the configuration, not from this user: it does not exist for them.
    expect((await refusal('/conference/v1/meetings/1000/events', USER)).status).toBe(404);
    const badNumber = await refusal('/conference/v1/meetings/abc/events', ADMIN);
    expect(badNumber.status).toBe(400);
    expect(JSON.parse(badNumber.body).errors[0].field).toBe('meetingNumber');
    // (The WebSocket client itself would normalize a %2e%2e segment away; an encoded slash reaches the server.)
    expect((await refusal('/conference/v1/meetings/1000%2Fx/events', ADMIN)).status).toBe(400);
    const badQuery = await refusal('/conference/v1/events?since=3', ADMIN);
    expect(badQuery.status).toBe(400);
    expect(JSON.parse(badQuery.body).errors[0].field).toBe('since');
    const badNames = await refusal(`/conference/v1/events?events=${encodeURIComponent("add-member,1' OR 1=1")}`, ADMIN);
    expect(badNames.status).toBe(400);
    expect(JSON.parse(badNames.body).errors[0].field).toBe('events');
    expect((await refusal('/conference/v1/calls', ADMIN)).status).toBe(404);
    // Nothing was left behind by the refusals, and the REST API still answers.
    expect((await h.api('GET', '/conference/v1/meetings')).status).toBe(200);
  });

  it('delivers join, mute, deaf, talking, leave and meeting end in order to the global and the meeting feed', async () => {
    const global = await h.feed('/conference/v1/events', ADMIN);
    const perMeeting = await h.feed('/conference/v1/meetings/1000/events', ADMIN);
    const userFeed = await h.feed('/conference/v1/events', USER);
    const joinsOnly = await h.feed('/conference/v1/events?events=add-member,del-member', ADMIN);
    const feeds: FeedConnection[] = [global, perMeeting, userFeed, joinsOnly];
    const sink = await RtpSink.open(24800);
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: sink.port,
        steps: [
          { kind: 'pause', ms: 500 },
          { kind: 'pcap', path: h.media.digits('alice', '2222#') },
          { kind: 'pause', ms: 2500 },
          { kind: 'stream', path: h.media.tone('alice', 700) },
          { kind: 'expectBye', timeoutMs: 60_000 },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 25810, mediaPort: 24500, timeoutSeconds: 90 },
    );
    const names = (feed: FeedConnection): string[] => feed.events.map((e: { event: string }) => e.event);
    try {
      await waitFor(() => names(global).includes('add-member'), 20_000, 'add-member on the global feed', [run]);
      const joined = global.events.find((e) => e.event === 'add-member');
      expect(joined).toMatchObject({ meetingNumber: 1000, caller_id_number: 'caller', data: { role: 'participant', muted: false } });
      const id: number = joined.participant_id;
      expect(joined.call_id).toContain(`-${run.process.pid}@`);

      expect((await h.api('PUT', `/conference/v1/calls/${id}`, { body: { muteMode: 40 } })).status).toBe(200);
      expect((await h.api('PUT', `/conference/v1/meetings/1000/participants/${id}`, { body: { action: 'deaf' } })).status).toBe(200);
      // Deafening twice changes nothing, so it is reported once.
      expect((await h.api('PUT', `/conference/v1/meetings/1000/participants/${id}`, { body: { action: 'deaf' } })).status).toBe(200);
      await waitFor(() => names(global).includes('start-talking'), 20_000, 'start-talking from the caller\'s tone', [run]);
      expect((await h.api('PUT', '/conference/v1/meetings/1000', { body: { action: 'lock' } })).status).toBe(200);
      const qa = await h.api('PUT', '/conference/v1/meetings/1000', { body: { action: 'qa-start' } });
      expect(qa.json).toMatchObject({ qaMode: 1 });
      expect((await h.api('PUT', '/conference/v1/meetings/1000', { body: { action: 'qa-stop' } })).json).toMatchObject({ qaMode: 0 });
      // A meeting-wide hold stays in the media (no re-INVITE: alice's scenario expects none).
      expect((await h.api('PUT', '/conference/v1/meetings/1000', { body: { action: 'hold' } })).json).toMatchObject({ holdMode: 40 });
      expect((await h.api('PUT', '/conference/v1/meetings/1000', { body: { action: 'unhold' } })).json).toMatchObject({ holdMode: 0 });
      expect((await h.api('PUT', '/conference/v1/meetings/1000', { body: { action: 'qa-launch' } })).json.errors[0].field).toBe('action');
      expect((await h.api('DELETE', `/conference/v1/calls/${id}`)).status).toBe(204);
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      await waitFor(() => names(global).includes('meeting-end') && names(perMeeting).includes('meeting-end'), 10_000, 'meeting-end');

      const events = global.events;
      // Numbered and stamped in order.
      for (let i = 1; i < events.length; i++) {
        expect(events[i].seq).toBeGreaterThan(events[i - 1].seq);
        expect(events[i].timestamp).toBeGreaterThanOrEqual(events[i - 1].timestamp);
      }
      const causal = names(global).filter((n) => n !== 'start-talking' && n !== 'stop-talking');
      expect(causal).toEqual([
        'meeting-start', 'add-member', 'mute-member', 'deaf-member', 'lock', 'qa-start', 'qa-stop',
        'hold-meeting', 'hold-member', 'unhold-meeting', 'unhold-member', 'del-member', 'meeting-end',
      ]);
      const talking = events.find((e) => e.event === 'start-talking');
      expect(talking).toMatchObject({ participant_id: id, meetingNumber: 1000 });
      expect(talking.data.energy_level).toBeGreaterThan(-38);
      expect(talking.seq).toBeGreaterThan(joined.seq);
      expect(talking.seq).toBeLessThan(events.find((e) => e.event === 'del-member').seq);
      expect(events.find((e) => e.event === 'mute-member')).toMatchObject({ participant_id: id, data: { by: 'operator' } });
      // The meeting feed saw the very same events (one meeting on the bridge).
      expect(perMeeting.events.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
      // The filtered feed got only what it asked for.
      await waitFor(() => joinsOnly.events.length >= 2, 5000, 'the filtered feed');
      expect(names(joinsOnly)).toEqual(['add-member', 'del-member']);
      // The user owns no room: nothing of meeting 1000 reached them.
      expect(userFeed.events).toEqual([]);
      expect(userFeed.closed).toBe(false);
    } finally {
      run.process.kill();
      sink.close();
      for (const feed of feeds) feed.socket.close();
    }
  });

  it('shows a user the events of their own room', async () => {
    // A room owned by the user: its meeting's events reach the user's feed.
    const user = h.client(USER);
    const groups = await h.api('GET', '/conference/v1/didGroups');
    const room = await user('POST', '/conference/v1/meetingRooms', {
      body: { primaryDidGroupId: groups.json.didGroups[0].id, meetingNumber: 7000, keychain: [{ accessCode: '7777', role: 2 }] },
    });
    expect(room.status, room.text).toBe(201);
    const mine = await h.feed('/conference/v1/meetings/7000/events', USER);
    const sink = await RtpSink.open(24802);
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: sink.port,
        steps: [{ kind: 'pause', ms: 500 }, { kind: 'pcap', path: h.media.digits('uma', '7777#') }, { kind: 'pause', ms: 1500 }, { kind: 'bye' }],
      },
      { serverPort: PORTS.sip, sipPort: 25811, mediaPort: 24510, timeoutSeconds: 60 },
    );
    try {
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      await waitFor(() => mine.events.some((e) => e.event === 'meeting-end'), 10_000, 'meeting-end on the user feed');
      expect(mine.events.map((e) => e.event)).toEqual(['meeting-start', 'add-member', 'del-member', 'meeting-end']);
      expect(mine.events.every((e) => e.meetingNumber === 7000)).toBe(true);
    } finally {
      run.process.kill();
      sink.close();
      mine.socket.close();
    }
    await sleep(50);
  });
});
