/**
 * Hold from our side against Debian's sipp as the phone: sipp answers our
 * re-INVITEs (checking a=sendonly, then a=sendrecv) and hangs up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import type { InboundCall } from '../../../src/sip/InboundCall.js';
import { negotiateAudio } from '../../../src/sip/sdp/index.js';
import { SipServer } from '../../../src/sip/SipServer.js';
import type { CallEndReason } from '../../../src/sip/SipTypes.js';
import { runCaller } from '../../support/sipp.js';
import { nextEvent } from './helpers.js';

const PORT = 15350;

describe('hold() and resume() answered by sipp', () => {
  let server: SipServer;

  beforeAll(async () => {
    server = await SipServer.listen({ bindAddress: '127.0.0.1', port: PORT, logger: silentLogger() });
    server.on('call', (call) => {
      const res = negotiateAudio(call.info.offerSdp, { localAddress: '127.0.0.1', localPort: 30000, sessionId: '3', supportedCodecs: ['PCMU'] });
      if (res.ok) call.accept(res.answerSdp);
      else call.reject(res.status, res.reason);
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('sendonly re-INVITE, then sendrecv again; the call stays up and ends with the phone’s BYE', async () => {
    const callP = nextEvent<[InboundCall]>(server, 'call', 10_000).then(([call]) => call);
    const run = runCaller(
      {
        dialed: '15550100',
        rtpPort: 28960,
        steps: [
          { kind: 'answerReinvite', rtpPort: 28960, timeoutMs: 5000, direction: 'recvonly', requestMatches: 'a=sendonly' },
          { kind: 'answerReinvite', rtpPort: 28960, timeoutMs: 5000, requestMatches: 'a=sendrecv' },
          { kind: 'pause', ms: 300 },
          { kind: 'bye' },
        ],
      },
      { serverPort: PORT, sipPort: 15351, mediaPort: 28962, timeoutSeconds: 20 },
    );
    try {
      const call = await callP;
      await nextEvent(call, 'confirmed');
      const ended = nextEvent<[CallEndReason]>(call, 'ended', 10_000);
      expect((await call.hold()).ok).toBe(true);
      expect(call.heldByUs).toBe(true);
      expect((await call.resume()).ok).toBe(true);
      expect(call.heldByUs).toBe(false);
      expect((await ended)[0]).toEqual({ by: 'remote', cause: 'bye' });
      const result = await run.done;
      expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
    } finally {
      run.process.kill();
    }
  }, 30_000);
});
