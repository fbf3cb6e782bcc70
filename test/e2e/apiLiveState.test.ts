/**
 * Live state through the API with real sipp callers: a call still in the
 * access-code dialogue is listed under /calls with state 1 (operators only),
 * can be read and hung up but not changed; once it joins it is listed by
 * its meeting, and its participant state shows seed 003's `speak`, `hear`,
 * `is_moderator`, `join_time`, `duration`, and `talking` / `energy_level`
 * while it streams a tone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller } from '../support/sipp.js';
import { apiHarness } from '../support/apiHarness.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 25860, http: 25960, rtpMin: 24850, rtpMax: 24949 };
const ADMIN: [string, string] = ['admin', 'state-test-password'];
const h = apiHarness({ ports: PORTS, adminPassword: ADMIN[1] });
const USER: [string, string] = ['vera', 'vera-password'];

beforeAll(async () => {
  expect((await h.api('POST', '/conference/v1/subscribers', { body: { login: USER[0], password: USER[1], role: 3 } })).status).toBe(200);
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe('live call and participant state', () => {
  it('lists a call in the IVR, then its participant state with talking and energy once it joins', async () => {
    const sinks = [await RtpSink.open(24808), await RtpSink.open(24810)];
    // Tina takes her time before keying the code; Ivo never keys one and is hung up through the API.
    const tina = runCaller(
      {
        dialed: '15550100',
        rtpPort: sinks[0]!.port,
        steps: [
          { kind: 'pause', ms: 3000 },
          { kind: 'pcap', path: h.media.digits('tina', '2222#') },
          { kind: 'pause', ms: 1500 },
          { kind: 'stream', path: h.media.tone('tina', 500) },
          { kind: 'expectBye', timeoutMs: 60_000 },
        ],
      },
      { serverPort: PORTS.sip, sipPort: 25861, mediaPort: 24540, timeoutSeconds: 90 },
    );
    const ivo = runCaller(
      { dialed: '15550100', rtpPort: sinks[1]!.port, steps: [{ kind: 'expectBye', timeoutMs: 30_000 }] },
      { serverPort: PORTS.sip, sipPort: 25862, mediaPort: 24550, timeoutSeconds: 60 },
    );
    const runs = [tina, ivo];
    try {
      let calls: Json[] = [];
      for (let i = 0; i < 100 && calls.length < 2; i++) {
        if (i > 0) await sleep(20);
        calls = (await h.api('GET', '/conference/v1/calls?filter=state%20eq%201')).json.calls;
      }
      expect(calls).toHaveLength(2);
      expect(h.server.app.conferenceManager.meetings).toHaveLength(0);
      for (const call of calls) {
        expect(call).toMatchObject({ state: 1, meetingNumber: 0, caller: 'caller', callee: '15550100', codec: 'PCMU', connectionStatus: 0 });
        expect(call.id).toBeGreaterThan(1_000_000_000);
      }
      // Which one is Ivo does not matter here: both are in the IVR.
      expect((await h.api('GET', `/conference/v1/calls/${calls[0].id}`)).json).toMatchObject({ id: calls[0].id, state: 1 });
      const put = await h.api('PUT', `/conference/v1/calls/${calls[0].id}`, { body: { muteMode: 40 } });
      expect(put.status).toBe(409);
      expect(put.json.errors[0].field).toBe('id');
      // A user sees no call without a room.
      const asUser = h.client(USER);
      expect((await asUser('GET', '/conference/v1/calls')).json.total).toBe(0);
      expect((await asUser('GET', `/conference/v1/calls/${calls[0].id}`)).status).toBe(404);
      expect((await asUser('DELETE', `/conference/v1/calls/${calls[0].id}`)).status).toBe(404);

      // Tina joins: she leaves the IVR list and shows up in meeting 1000.
      await waitFor(() => h.server.app.conferenceManager.getMeeting(1000)?.participants.length === 1, 20_000, 'tina in meeting 1000', runs);
      const after = (await h.api('GET', '/conference/v1/calls')).json.calls as Json[];
      expect(after.filter((c) => c.state === 1)).toHaveLength(1);
      expect(after.filter((c) => c.state === 2)).toHaveLength(1);
      const ivoId: number = after.find((c) => c.state === 1).id;
      const tinaCall = after.find((c) => c.state === 2);
      expect((await h.api('DELETE', `/conference/v1/calls/${ivoId}`)).status).toBe(204);
      const ivoResult = await ivo.done;
      expect(ivoResult.code, ivoResult.errors + ivoResult.output.slice(-2000)).toBe(0);
      expect((await h.api('GET', `/conference/v1/calls/${ivoId}`)).status).toBe(404);

      // Her state while her tone plays.
      let state: Json;
      for (let i = 0; i < 200; i++) {
        state = (await h.api('GET', `/conference/v1/meetings/1000/participants/${tinaCall.id}`)).json;
        if (state.talking === true) break;
        await sleep(50);
      }
      expect(state).toMatchObject({ participant_id: tinaCall.id, speak: true, hear: true, is_moderator: false, talking: true, mute: false, deaf: false });
      expect(state.energy_level).toBeGreaterThan(-38);
      expect(state.energy_level).toBeLessThan(0);
      expect(Math.abs(state.join_time - Date.now() / 1000)).toBeLessThan(30);
      expect(state.duration).toBeGreaterThanOrEqual(0);
      // Deaf and mute show in speak/hear.
      await h.api('PUT', `/conference/v1/meetings/1000/participants/${tinaCall.id}`, { body: { action: 'deaf' } });
      await h.api('PUT', `/conference/v1/meetings/1000/participants/${tinaCall.id}`, { body: { action: 'mute' } });
      const changed = (await h.api('GET', `/conference/v1/meetings/1000/participants/${tinaCall.id}`)).json;
      expect(changed).toMatchObject({ speak: false, hear: false, mute: true, deaf: true });
      // Filtering on the live state works like any other field.
      const talkers = await h.api('GET', '/conference/v1/meetings/1000/participants?filter=talking%20eq%20true');
      expect(talkers.status).toBe(200);
      expect(talkers.json.participants.map((p: Json) => p.participant_id)).toEqual([tinaCall.id]);

      expect((await h.api('DELETE', '/conference/v1/meetings/1000')).status).toBe(204);
      const tinaResult = await tina.done;
      expect(tinaResult.code, tinaResult.errors + tinaResult.output.slice(-2000)).toBe(0);
      expect((await h.api('GET', '/conference/v1/calls')).json.total).toBe(0);
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  });
});
