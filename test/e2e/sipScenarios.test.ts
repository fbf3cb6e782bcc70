/**
 * Carrier SIP scenarios through the whole application: Debian's sipp dials
 * DID 15550100 on 127.0.0.1 and enters access code 2222 (participant of
 * meeting 1000); the test listens on each phone's RTP port to check what the
 * bridge sends there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toneAmplitude } from '../support/audio.js';
import { CallerMedia } from '../support/callerMedia.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller, sippLossStats, type CallerStep, type SippRun } from '../support/sipp.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { sleep, waitFor } from '../support/wait.js';
import { apiClient } from './apiClient.js';

const PORTS = { sip: 25500, http: 25501, rtpMin: 28000, rtpMax: 28499 };
const ADMIN: [string, string] = ['admin', 'sip scenarios password'];
const MEETING = 1000;
const HEARD = 1500;

let server: TestServer;
let media: CallerMedia;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  media = new CallerMedia();
  // Test knob: a session-timer minimum of 2 s (RFC 4028's floor is 90 s) keeps the timer scenarios short.
  server = await startTestServer(PORTS, (config) => (config.sip.sessionTimers = { expiresSeconds: 1800, minSeconds: 2 }), {
    ADMIN_PASSWORD: ADMIN[1],
  });
  api = apiClient(PORTS.http, ADMIN);
});

afterAll(async () => {
  await server?.stop();
  media?.remove();
});

function participants(): number {
  return server.app.conferenceManager.getMeeting(MEETING)?.participants.length ?? 0;
}

async function expectSucceeded(run: SippRun): Promise<void> {
  const result = await run.done;
  expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
}

/** After a test: nobody left in the meeting and no media leg left over. */
async function expectAllGone(): Promise<void> {
  await waitFor(() => server.app.conferenceManager.getMeeting(MEETING) === undefined, 10_000, 'meeting 1000 to end');
  await waitFor(() => server.app.mediaEngine.stats().legs === 0, 10_000, 'every media leg to close');
}

/** A participant that enters the code as RFC 4733 digits and then streams a tone. */
function toneCaller(name: string, frequency: number, holdMs: number): CallerStep[] {
  return [
    { kind: 'pause', ms: 500 },
    { kind: 'pcap', path: media.digits(name, '2222#') },
    { kind: 'pause', ms: 1500 },
    { kind: 'stream', path: media.tone(name, frequency) },
    { kind: 'pause', ms: holdMs },
    { kind: 'bye' },
  ];
}

describe('sipp scenarios through the whole bridge', () => {
  it('basic call over UDP and a call over TCP (-t t1): both enter the code and hear each other', async () => {
    const sinks = await Promise.all([RtpSink.open(28600), RtpSink.open(28602)]);
    const runs = [
      runCaller({ dialed: '15550100', rtpPort: sinks[0]!.port, steps: toneCaller('udp', 500, 7000) }, { serverPort: PORTS.sip, sipPort: 25510, mediaPort: 28700 }),
      runCaller(
        { dialed: '+15550100', rtpPort: sinks[1]!.port, steps: toneCaller('tcp', 1300, 7000) },
        { serverPort: PORTS.sip, sipPort: 25511, mediaPort: 28710, transport: 'tcp' },
      ),
    ];
    try {
      await waitFor(() => participants() === 2, 15_000, 'two participants', runs);
      await sleep(1000);
      const since = Date.now();
      await sleep(2000);
      const udpHeard = sinks[0]!.samplesSince(since);
      const tcpHeard = sinks[1]!.samplesSince(since);
      const report = JSON.stringify([500, 1300].map((f) => [toneAmplitude(udpHeard, f), toneAmplitude(tcpHeard, f)].map(Math.round)));
      expect(toneAmplitude(udpHeard, 1300), report).toBeGreaterThan(HEARD);
      expect(toneAmplitude(tcpHeard, 500), report).toBeGreaterThan(HEARD);
      for (const run of runs) await expectSucceeded(run);
      await expectAllGone();
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  }, 40_000);

  it('INFO DTMF: application/dtmf-relay and application/dtmf both enter the access code', async () => {
    const steps = (contentType: 'application/dtmf-relay' | 'application/dtmf'): CallerStep[] => [
      { kind: 'pause', ms: 500 },
      { kind: 'info', digits: '2222#', contentType },
      { kind: 'pause', ms: 4000 },
      { kind: 'bye' },
    ];
    const sinks = await Promise.all([RtpSink.open(28604), RtpSink.open(28606)]);
    const runs = [
      runCaller({ dialed: '15550100', rtpPort: sinks[0]!.port, steps: steps('application/dtmf-relay') }, { serverPort: PORTS.sip, sipPort: 25512, mediaPort: 28720 }),
      runCaller({ dialed: '15550100', rtpPort: sinks[1]!.port, steps: steps('application/dtmf') }, { serverPort: PORTS.sip, sipPort: 25513, mediaPort: 28730 }),
    ];
    try {
      await waitFor(() => participants() === 2, 15_000, 'both INFO callers in meeting 1000', runs);
      expect(server.app.conferenceManager.getMeeting(MEETING)!.participants.map((p) => p.role)).toEqual(['participant', 'participant']);
      for (const run of runs) await expectSucceeded(run);
      await expectAllGone();
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  }, 40_000);

  it('a phone holding the bridge (sendonly, inactive, c=0.0.0.0; re-INVITE and UPDATE) gets no RTP until it resumes, then hears the room again', async () => {
    const talkerSink = await RtpSink.open(28608);
    const phone = await RtpSink.open(28610);
    const holdMs = 3000;
    const holds: Array<{ direction: 'sendonly' | 'inactive' | 'sendrecv'; nullAddress?: boolean; method?: 'UPDATE' }> = [
      { direction: 'sendonly' },
      { direction: 'inactive' },
      { direction: 'sendrecv', nullAddress: true },
      // RFC 3311: the same hold and resume offered in UPDATEs.
      { direction: 'sendonly', method: 'UPDATE' },
    ];
    const phoneSteps: CallerStep[] = [{ kind: 'pause', ms: 500 }, { kind: 'info', digits: '2222#' }, { kind: 'pause', ms: 3000 }];
    for (const hold of holds) {
      const method = hold.method ?? 'INVITE';
      phoneSteps.push(
        { kind: 'reinvite', rtpPort: phone.port, direction: hold.direction, method, ...(hold.nullAddress ? { nullAddress: true } : {}) },
        { kind: 'pause', ms: holdMs },
        { kind: 'reinvite', rtpPort: phone.port, direction: 'sendrecv', method },
        { kind: 'pause', ms: holdMs },
      );
    }
    phoneSteps.push({ kind: 'bye' });
    const runs = [
      runCaller({ dialed: '15550100', rtpPort: talkerSink.port, steps: toneCaller('talker', 850, 30_000) }, { serverPort: PORTS.sip, sipPort: 25514, mediaPort: 28740 }),
      runCaller({ dialed: '15550100', rtpPort: phone.port, steps: phoneSteps }, { serverPort: PORTS.sip, sipPort: 25515, mediaPort: 28750 }),
    ];
    try {
      const conference = server.app.conferenceManager;
      await waitFor(() => participants() === 2, 15_000, 'talker and phone in meeting 1000', runs);
      const phoneParticipant = (): { phoneHold: boolean } | undefined =>
        conference.getMeeting(MEETING)?.participants.find((p) => p.leg.remote?.port === phone.port);
      for (const hold of holds) {
        const what = `${hold.nullAddress ? 'c=0.0.0.0' : hold.direction} by ${hold.method ?? 'INVITE'}`;
        await waitFor(() => phoneParticipant()?.phoneHold === true, 10_000, `phone hold (${what})`, runs);
        // Packets already in flight when the hold arrived are not the point.
        await sleep(300);
        const heldSince = Date.now();
        const before = phone.packetCount;
        await sleep(1500);
        expect(phone.packetCount - before, `RTP sent to a phone holding us (${what})`).toBe(0);
        expect(phone.samplesSince(heldSince).length).toBe(0);

        await waitFor(() => phoneParticipant()?.phoneHold === false, 10_000, `resume after ${what}`, runs);
        await sleep(700);
        const since = Date.now();
        await sleep(1200);
        const amplitude = toneAmplitude(phone.samplesSince(since), 850);
        expect(amplitude, `tone heard after resuming from ${what}`).toBeGreaterThan(HEARD);
      }
      for (const run of runs) await expectSucceeded(run);
      await expectAllGone();
    } finally {
      for (const run of runs) run.process.kill();
      talkerSink.close();
      phone.close();
    }
  }, 70_000);

  it('CANCEL while ringing (call_delay on the DID): 200 and 487, and nothing is left behind; a patient caller (and one using 100rel) gets in', async () => {
    const dids = await api('GET', '/conference/v1/dids');
    expect(dids.status).toBe(200);
    const did = (dids.json.dids as Array<{ id: number; phoneNumber: string }>).find((d) => d.phoneNumber === '15550100');
    expect(did).toBeDefined();
    const set = await api('PUT', `/conference/v1/dids/${did!.id}`, { body: { attributes: [{ name: 'call_delay', value: 3 }] } });
    expect(set.status, set.text).toBe(200);
    const sink = await RtpSink.open(28612);
    try {
      const legsBefore = server.app.mediaEngine.stats().legs;
      const run = runCaller({ dialed: '15550100', rtpPort: sink.port, steps: [], cancelOnRinging: true }, { serverPort: PORTS.sip, sipPort: 25516, mediaPort: 28760 });
      await expectSucceeded(run);
      // The delay runs out after the CANCEL: the call must not be answered then.
      await sleep(3500);
      expect(server.app.mediaEngine.stats().legs).toBe(legsBefore);
      expect(sink.packetCount).toBe(0);
      expect(server.app.conferenceManager.meetings.length).toBe(0);

      // With the delay still set, a caller that waits is answered after ringing and gets in.
      const waiting = runCaller(
        { dialed: '15550100', rtpPort: sink.port, steps: [{ kind: 'info', digits: '2222#' }, { kind: 'pause', ms: 1500 }, { kind: 'bye' }] },
        { serverPort: PORTS.sip, sipPort: 25517, mediaPort: 28770 },
      );
      await waitFor(() => participants() === 1, 15_000, 'the patient caller in meeting 1000', [waiting]);
      await expectSucceeded(waiting);
      await expectAllGone();

      // 100rel (RFC 3262): the 180 is reliable and PRACKed, then the call is answered.
      const reliable = runCaller(
        {
          dialed: '15550100',
          rtpPort: sink.port,
          inviteHeaders: ['Supported: 100rel'],
          prackOnRinging: true,
          steps: [{ kind: 'info', digits: '2222#' }, { kind: 'pause', ms: 1500 }, { kind: 'bye' }],
        },
        { serverPort: PORTS.sip, sipPort: 25535, mediaPort: 28880 },
      );
      await waitFor(() => participants() === 1, 15_000, 'the PRACKing caller in meeting 1000', [reliable]);
      await expectSucceeded(reliable);
      await expectAllGone();
    } finally {
      await api('PUT', `/conference/v1/dids/${did!.id}`, { body: { attributes: [{ name: 'call_delay', value: null }] } });
      sink.close();
    }
  }, 60_000);

  it('UDP with -lost 10: retransmissions carry three calls in and out cleanly', async () => {
    const sinks = await Promise.all([RtpSink.open(28614), RtpSink.open(28616), RtpSink.open(28618)]);
    const runs = sinks.map((sink, i) =>
      runCaller(
        {
          dialed: '15550100',
          rtpPort: sink.port,
          // Enough messages (about 25 each) that -lost surely drops some of them.
          steps: [
            { kind: 'pause', ms: 500 },
            { kind: 'info', digits: '2222#', gapMs: 200 },
            { kind: 'infoNoop', count: 15 },
            { kind: 'pause', ms: 3000 },
            { kind: 'bye' },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 25518 + i, mediaPort: 28780 + 10 * i, lostPercent: 10, timeoutSeconds: 50 },
      ),
    );
    try {
      // Retransmissions can hold one caller's INVITE back for seconds while
      // another has already said its piece and left, so each caller must be
      // seen in the meeting, not all three at once.
      const joined = new Set<number>();
      const sinkPorts = sinks.map((sink) => sink.port);
      await waitFor(
        () => {
          for (const p of server.app.conferenceManager.getMeeting(MEETING)?.participants ?? []) {
            if (p.leg.remote) joined.add(p.leg.remote.port);
          }
          const failed = runs.find((run) => run.exited && run.exited.code !== 0);
          if (failed) throw new Error(`a lossy caller failed (code ${failed.exited!.code}):\n${failed.exited!.output}`);
          return sinkPorts.every((port) => joined.has(port));
        },
        40_000,
        'each lossy caller in meeting 1000',
      );
      const results = await Promise.all(runs.map((run) => run.done));
      // Each of them heard the bridge (the entry of the others, or silence frames): media was up.
      for (const sink of sinks) expect(sink.packetCount).toBeGreaterThan(0);
      for (const result of results) expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      // Messages were really lost and retransmissions carried the calls through.
      // sipp's -lost drops received messages as well as sent ones, and its
      // screen counts only the sent ones as lost: a run can lose only
      // responses (0 lost, several retransmissions), so the proof of loss is
      // the retransmissions (about 150 messages at 10 %: none lost is ~1e-7).
      const stats = results.map((result) => sippLossStats(result.output));
      const total = stats.reduce((sum, s) => ({ retransmissions: sum.retransmissions + s.retransmissions, lost: sum.lost + s.lost }), { retransmissions: 0, lost: 0 });
      expect(total.retransmissions, JSON.stringify(stats)).toBeGreaterThan(0);
      await expectAllGone();
    } finally {
      for (const run of runs) run.process.kill();
      for (const sink of sinks) sink.close();
    }
  }, 90_000);

  describe('session timers (RFC 4028; minimum lowered to 2 s for the test)', () => {
    const timerInvite = (expires: number, refresher: 'uac' | 'uas'): string[] => ['Supported: timer', `Session-Expires: ${expires};refresher=${refresher}`];

    it('422 with Min-SE when the interval asked for is below our minimum', async () => {
      const run = runCaller(
        { dialed: '15550100', rtpPort: 28620, steps: [], inviteHeaders: timerInvite(1, 'uac'), expectFailure: 422, answerMatches: 'Min-SE: *2' },
        { serverPort: PORTS.sip, sipPort: 25530, mediaPort: 28800 },
      );
      await expectSucceeded(run);
      expect(server.app.mediaEngine.stats().legs).toBe(0);
    }, 20_000);

    it('the phone refreshes (UPDATE and re-INVITE) and the call outlives several intervals', async () => {
      const refresh = timerInvite(4, 'uac');
      const sink = await RtpSink.open(28622);
      const run = runCaller(
        {
          dialed: '15550100',
          rtpPort: sink.port,
          inviteHeaders: refresh,
          answerMatches: 'Session-Expires: *4;refresher=uac',
          steps: [
            { kind: 'pause', ms: 1800 },
            { kind: 'refreshUpdate', headers: refresh },
            { kind: 'pause', ms: 1800 },
            { kind: 'reinvite', rtpPort: sink.port, direction: 'sendrecv', headers: refresh },
            { kind: 'pause', ms: 1800 },
            { kind: 'refreshUpdate', headers: refresh },
            { kind: 'pause', ms: 1800 },
            { kind: 'bye' },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 25531, mediaPort: 28810 },
      );
      try {
        // A BYE from us (the session timer expiring) would be unexpected for sipp and fail the run.
        await expectSucceeded(run);
        expect(sink.packetCount).toBeGreaterThan(100);
        await waitFor(() => server.app.mediaEngine.stats().legs === 0, 10_000, 'the media leg to close');
      } finally {
        run.process.kill();
        sink.close();
      }
    }, 30_000);

    it('the phone is the refresher and never refreshes: our BYE with a Reason header ends the call', async () => {
      const run = runCaller(
        {
          dialed: '15550100',
          rtpPort: 28624,
          inviteHeaders: timerInvite(3, 'uac'),
          steps: [{ kind: 'expectBye', timeoutMs: 8000, reasonMatches: 'cause=102.*Session timer expired' }],
        },
        { serverPort: PORTS.sip, sipPort: 25532, mediaPort: 28820 },
      );
      await expectSucceeded(run);
      await waitFor(() => server.app.mediaEngine.stats().legs === 0, 10_000, 'the media leg to close');
    }, 30_000);

    it('we are the refresher: re-INVITE at half the interval, or UPDATE when the phone allows it', async () => {
      const reinvite = runCaller(
        {
          dialed: '15550100',
          rtpPort: 28626,
          inviteHeaders: timerInvite(4, 'uas'),
          answerMatches: 'Session-Expires: *4;refresher=uas',
          steps: [
            { kind: 'answerReinvite', rtpPort: 28626, timeoutMs: 5000, requestMatches: 'Session-Expires: *4;refresher=uac && a=sendrecv' },
            { kind: 'answerReinvite', rtpPort: 28626, timeoutMs: 5000, requestMatches: 'Session-Expires: *4' },
            { kind: 'bye' },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 25533, mediaPort: 28830 },
      );
      const update = runCaller(
        {
          dialed: '15550100',
          rtpPort: 28628,
          inviteHeaders: [...timerInvite(4, 'uas'), 'Allow: INVITE, ACK, CANCEL, BYE, UPDATE'],
          steps: [
            { kind: 'answerReinvite', method: 'UPDATE', rtpPort: 28628, timeoutMs: 5000, requestMatches: 'Session-Expires: *4;refresher=uac' },
            { kind: 'answerReinvite', method: 'UPDATE', rtpPort: 28628, timeoutMs: 5000 },
            { kind: 'bye' },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 25534, mediaPort: 28840 },
      );
      await expectSucceeded(reinvite);
      await expectSucceeded(update);
      await waitFor(() => server.app.mediaEngine.stats().legs === 0, 10_000, 'the media legs to close');
    }, 30_000);
  });

  describe('delayed offer (INVITE without SDP)', () => {
    it('our 200 offers G.722, Opus, PCMU, PCMA, CN and telephone-event; the answer in the ACK sets where we send: the caller hears the room', async () => {
      const talkerSink = await RtpSink.open(28630);
      const phone = await RtpSink.open(28632);
      const runs = [
        runCaller({ dialed: '15550100', rtpPort: talkerSink.port, steps: toneCaller('delayed-talker', 650, 8000) }, { serverPort: PORTS.sip, sipPort: 25540, mediaPort: 28850 }),
        runCaller(
          {
            dialed: '15550100',
            rtpPort: phone.port,
            delayedOffer: {},
            answerMatches: 'm=audio [0-9]+ RTP/AVP 9 111 0 8 13 101 && a=rtpmap:9 G722/8000 && a=rtpmap:101 telephone-event/8000',
            steps: [{ kind: 'pause', ms: 500 }, { kind: 'info', digits: '2222#' }, { kind: 'pause', ms: 7000 }, { kind: 'bye' }],
          },
          { serverPort: PORTS.sip, sipPort: 25541, mediaPort: 28860 },
        ),
      ];
      try {
        await waitFor(() => participants() === 2, 15_000, 'talker and delayed-offer caller in meeting 1000', runs);
        await sleep(1000);
        const since = Date.now();
        await sleep(1500);
        expect(toneAmplitude(phone.samplesSince(since), 650)).toBeGreaterThan(HEARD);
        for (const run of runs) await expectSucceeded(run);
        await expectAllGone();
      } finally {
        for (const run of runs) run.process.kill();
        talkerSink.close();
        phone.close();
      }
    }, 40_000);

    it('an ACK without an answer ends the call with BYE and leaves nothing behind', async () => {
      const run = runCaller(
        {
          dialed: '15550100',
          rtpPort: 28634,
          delayedOffer: { ackWithoutSdp: true },
          steps: [{ kind: 'expectBye', timeoutMs: 5000, reasonMatches: 'No usable SDP answer' }],
        },
        { serverPort: PORTS.sip, sipPort: 25542, mediaPort: 28870 },
      );
      await expectSucceeded(run);
      await waitFor(() => server.app.mediaEngine.stats().legs === 0, 10_000, 'the media leg to close');
    }, 20_000);
  });
});
