/**
 * 004's `call_operator_after` end to end: a caller (sipp) who gets the
 * access code wrong too often is not hung up but transferred to the
 * configured operator number, dialed through the outbound trunk, which
 * points at a second sipp acting as the operator. Once it answers, caller
 * and operator hear each other (their tones, decoded from the RTP the
 * bridge sends to ports the test owns), and the caller hanging up hangs the
 * operator up too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toneAmplitude } from '../support/audio.js';
import { CallerMedia } from '../support/callerMedia.js';
import { RtpSink } from '../support/rtpSink.js';
import { answeringCallee, runCallee } from '../support/sippCallee.js';
import { runCaller } from '../support/sipp.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { waitFor } from '../support/wait.js';

const PORTS = { sip: 25780, http: 25790, rtpMin: 23000, rtpMax: 23099 };
const OPERATOR = { sipPort: 25785, mediaPort: 23220, sinkPort: 23204 };
const CALLER = { sipPort: 25781, mediaPort: 23210, sinkPort: 23200 };
const HEARD = 1500;

let server: TestServer;
let media: CallerMedia;
let dir: string;

beforeAll(async () => {
  media = new CallerMedia();
  dir = mkdtempSync(join(tmpdir(), 'operator-'));
  server = await startTestServer(PORTS, (config) => {
    config.ivr.digitTimeoutSeconds = 2;
    config.ivr.maxCodeAttempts = 2;
    config.ivr.operatorNumber = '15550999';
    const trunk = config.trunks.find((t) => t.outbound)!;
    trunk.outbound!.proxy = { host: '127.0.0.1', port: OPERATOR.sipPort, transport: 'udp' };
  });
});

afterAll(async () => {
  await server?.stop();
  media?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('operator transfer after too many wrong codes', () => {
  it('bridges the caller to the operator: each hears the other, and the caller hanging up ends both calls', async () => {
    const [CALLER_HZ, OPERATOR_HZ] = [600, 1100];
    const callerSink = await RtpSink.open(CALLER.sinkPort);
    const operatorSink = await RtpSink.open(OPERATOR.sinkPort);
    const operator = runCallee(answeringCallee(OPERATOR.sinkPort, media.tone('operator', OPERATOR_HZ)), OPERATOR, dir);
    const caller = runCaller(
      {
        dialed: '15550100',
        rtpPort: CALLER.sinkPort,
        steps: [
          { kind: 'stream', path: media.tone('caller', CALLER_HZ) },
          { kind: 'pause', ms: 1500 },
          { kind: 'info', digits: '98#' },
          { kind: 'pause', ms: 3000 },
          { kind: 'info', digits: '97#' },
          { kind: 'pause', ms: 14_000 },
          { kind: 'bye' },
        ],
      },
      { serverPort: PORTS.sip, sipPort: CALLER.sipPort, mediaPort: CALLER.mediaPort, timeoutSeconds: 60 },
    );
    try {
      await waitFor(() => server.app.mediaEngine.stats().legs === 2, 30_000, 'the operator leg to be answered', [caller]);
      // Past the ring, the answer and the bridge: both directions carry audio.
      await waitFor(
        () =>
          toneAmplitude(callerSink.samplesSince(Date.now() - 1000), OPERATOR_HZ) > HEARD &&
          toneAmplitude(operatorSink.samplesSince(Date.now() - 1000), CALLER_HZ) > HEARD,
        20_000,
        'caller and operator to hear each other',
        [caller],
      );
      expect(server.app.conferenceManager.meetings).toHaveLength(0); // a private bridge, not a meeting
      const callerResult = await caller.done;
      expect(callerResult.code, callerResult.errors + callerResult.output.slice(-1500)).toBe(0);
      // The operator got our BYE when the caller left: its scenario ran to the end.
      const operatorResult = await operator.done;
      expect(operatorResult.code, operatorResult.output).toBe(0);
      await waitFor(() => server.app.mediaEngine.stats().legs === 0, 5_000, 'every media leg closed');
    } finally {
      caller.process.kill();
      operator.process.kill();
      callerSink.close();
      operatorSink.close();
    }
  }, 120_000);
});
