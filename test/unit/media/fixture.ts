/**
 * Shared setup for the media engine unit tests: an engine on the tests' RTP
 * port range, fake phones (RtpPeer) and legs wired to them, all closed after
 * each test.
 */
import { afterEach } from 'vitest';

import { MediaEngine } from '../../../src/media/MediaEngine.js';
import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import type { MediaRoom } from '../../../src/media/MediaRoom.js';
import type { AudioCodecName, MediaEngineOptions } from '../../../src/media/MediaTypes.js';
import { RtpPeer } from '../../support/rtpPeer.js';

/** The RTP port range the media unit tests bind in. */
export const PORTS = { rtpPortMin: 31000, rtpPortMax: 31999 };

export interface LegWithPeer {
  leg: MediaLeg;
  peer: RtpPeer;
}

export interface MediaFixture {
  /** A started engine on 127.0.0.1 and PORTS unless `options` say otherwise; closed after the test. */
  startEngine(options?: Partial<MediaEngineOptions>): Promise<MediaEngine>;
  /** A fake phone on `address`; closed after the test. */
  openPeer(address?: string): Promise<RtpPeer>;
  /** A PCMU leg (PT 0, telephone-event PT 101) and a peer that talk to each other. */
  legWithPeer(engine: MediaEngine, callId: string): Promise<LegWithPeer>;
  /** A new room and legs 'a' and 'b' (each from legWithPeer), both joined to it to speak and hear. */
  pairInRoom(engine: MediaEngine): Promise<{ room: MediaRoom; a: LegWithPeer; b: LegWithPeer }>;
  /**
   * Two rooms joined by a trunk of two engine legs sending RTP to each other in `trunkCodec`:
   *   phone a (PCMU) - leg a | room 1 | leg x ==RTP== leg p | room 2 | leg b - phone b
   * so what a phone sends reaches the other through the trunk codec's encoder and decoder.
   */
  trunkedRooms(engine: MediaEngine, trunkCodec: { codec: AudioCodecName; payloadType: number }): Promise<TrunkedRooms>;
}

export interface TrunkedRooms {
  a: LegWithPeer;
  b: LegWithPeer;
  /** The trunk's leg in room 1. */
  x: MediaLeg;
  /** The trunk's leg in room 2. */
  p: MediaLeg;
}

/** Call once at the top level of a test file: registers the afterEach cleanup. */
export function useMediaFixture(): MediaFixture {
  let engine: MediaEngine | undefined;
  const peers: RtpPeer[] = [];

  afterEach(async () => {
    engine?.close();
    engine = undefined;
    await Promise.all(peers.splice(0).map((p) => p.close()));
  });

  const openPeer = async (address = '127.0.0.1'): Promise<RtpPeer> => {
    const peer = await RtpPeer.open(address);
    peers.push(peer);
    return peer;
  };

  const legWithPeer = async (e: MediaEngine, callId: string, telephoneEvents = true): Promise<LegWithPeer> => {
    const peer = await openPeer();
    const leg = e.createLeg({
      callId,
      codec: 'PCMU',
      payloadType: 0,
      ...(telephoneEvents ? { telephoneEventPayloadType: 101 } : {}),
      remote: { address: peer.address, port: peer.port },
    });
    peer.target(leg.localAddress, leg.localPort);
    return { leg, peer };
  };

  return {
    async startEngine(options = {}) {
      engine = await MediaEngine.create({ bindAddress: '127.0.0.1', ...PORTS, ...options });
      return engine;
    },
    openPeer,
    legWithPeer,
    async pairInRoom(e) {
      const room = e.createRoom();
      const a = await legWithPeer(e, 'a');
      const b = await legWithPeer(e, 'b');
      a.leg.join(room);
      b.leg.join(room);
      return { room, a, b };
    },
    async trunkedRooms(e, trunkCodec) {
      const r1 = e.createRoom();
      const r2 = e.createRoom();
      const a = await legWithPeer(e, 'a', false);
      const b = await legWithPeer(e, 'b', false);
      const x = e.createLeg({ callId: 'x', ...trunkCodec });
      const p = e.createLeg({ callId: 'p', ...trunkCodec });
      x.setRemote({ address: p.localAddress, port: p.localPort });
      p.setRemote({ address: x.localAddress, port: x.localPort });
      a.leg.join(r1);
      x.join(r1);
      p.join(r2);
      b.leg.join(r2);
      return { a, b, x, p };
    },
  };
}
