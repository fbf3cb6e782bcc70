/**
 * SipDialer's refusals, over a real SipServer and media engine: no
 * outbound trunk, a number the trunk cannot dial. Each is a clear outcome
 * and leaves no media leg behind. (Answered and busy callees: the
 * keypadDialOut end-to-end test, with sipp.)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SipDialer } from '../../../src/app/dialOut.js';
import { Meeting } from '../../../src/conference/Meeting.js';
import { silentLogger } from '../../../src/log.js';
import { MediaEngine } from '../../../src/media/MediaEngine.js';
import { SipServer } from '../../../src/sip/SipServer.js';
import type { SipTrunk } from '../../../src/sip/SipTypes.js';
import type { MeetingRoom } from '../../../src/store/StoreTypes.js';

const SIP_PORT = 25770;
const RTP = { rtpPortMin: 26480, rtpPortMax: 26499 };

let sip: SipServer | undefined;
let media: MediaEngine | undefined;

afterEach(async () => {
  await sip?.close();
  media?.close();
  sip = undefined;
  media = undefined;
});

async function start(trunks: SipTrunk[]) {
  media = await MediaEngine.create({ bindAddress: '127.0.0.1', ...RTP, logger: silentLogger() });
  sip = await SipServer.listen({ bindAddress: '127.0.0.1', port: SIP_PORT, logger: silentLogger(), trunks });
  const dialer = new SipDialer({ sip, media, trunks, advertisedAddress: '127.0.0.1', logger: silentLogger() });
  const room = media.createRoom();
  const meeting = new Meeting({ meetingNumber: 1, attributes: [] } as unknown as MeetingRoom, room, () => 1, silentLogger());
  const inviterLeg = media.createLeg({ callId: 'inviter', codec: 'PCMU', payloadType: 0 });
  const inviter = meeting.join({ callId: 'inviter', role: 'host', accessCode: '1', caller: 'h', callee: '15550100', leg: inviterLeg });
  return { dialer, meeting, inviter, engine: media };
}

const inboundOnly: SipTrunk = { name: 'in', inbound: { addresses: ['127.0.0.1'] } };
const outbound: SipTrunk = {
  name: 'out',
  inbound: { addresses: [] },
  outbound: { proxy: { host: '127.0.0.1', port: 25771, transport: 'udp' }, callerId: '+15550100' },
};

describe('SipDialer', () => {
  it('without a trunk that dials out: unavailable, nothing left open', async () => {
    const { dialer, meeting, inviter, engine } = await start([inboundOnly]);
    await expect(dialer.invite('15551234', meeting, inviter)).resolves.toEqual({ ok: false, reason: 'unavailable' });
    expect(engine.stats().legs).toBe(1); // the inviter's only
    expect(sip!.outboundCalls()).toHaveLength(0);
  });

  it('a number too short for E.164: invalidNumber, no call placed, the leg closed', async () => {
    const { dialer, meeting, inviter, engine } = await start([inboundOnly, outbound]);
    await expect(dialer.invite('12', meeting, inviter)).resolves.toEqual({ ok: false, reason: 'invalidNumber' });
    expect(engine.stats().legs).toBe(1);
    expect(sip!.outboundCalls()).toHaveLength(0);
    expect(meeting.participants).toHaveLength(1);
  });
});
