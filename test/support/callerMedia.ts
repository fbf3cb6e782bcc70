import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMulaw, sine } from './audio.js';
import { writeRtpPcap } from './pcap.js';
import { dtmfSequence } from './rtpPackets.js';

/**
 * The files sipp plays as a caller: a looping tone (raw µ-law, what
 * `rtp_stream` wants) and RFC 4733 digits (a pcap for `play_pcap_audio`),
 * kept in one temporary directory per test file.
 */
export class CallerMedia {
  private readonly dir = mkdtempSync(join(tmpdir(), 'caller-media-'));
  private pcaps = 0;

  /** 20 s of a sine at `frequency` Hz, -12 dBFS. */
  tone(name: string, frequency: number): string {
    const path = join(this.dir, `${name}.ulaw`);
    writeFileSync(path, encodeMulaw(sine(frequency, 8000 * 20, 8000)));
    return path;
  }

  /** `digits` as RFC 4733 events on payload type 101, each file with its own SSRC. */
  digits(name: string, digits: string): string {
    const path = join(this.dir, `${name}.pcap`);
    writeRtpPcap(path, dtmfSequence(digits, { payloadType: 101, ssrc: 0x5eed0000 + ++this.pcaps }));
    return path;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
