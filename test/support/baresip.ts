import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sine } from './audio.js';
import { waitFor } from './wait.js';

/** A 16-bit PCM WAV of a sine (amplitude 8000), the same on every channel. */
function sineWav(frequency: number, rate: number, channels: number, seconds: number): Buffer {
  const mono = sine(frequency, rate * seconds, 8000, rate);
  const data = Buffer.alloc(mono.length * 2 * channels);
  for (let i = 0; i < mono.length; i++) {
    for (let c = 0; c < channels; c++) data.writeInt16LE(mono[i]!, (i * channels + c) * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

export interface BaresipOptions {
  sipPort: number;
  /** First of 20 RTP ports baresip may use. */
  rtpPortMin: number;
  /** Port of its ctrl_tcp command socket (not sipPort + 1: baresip takes that one for SIP over TLS). */
  controlPort: number;
  /** Codecs in preference order, as baresip names them: name/rate/channels (G722/16000/1, PCMU/8000/1, opus/48000/2). */
  codecs: string[];
  /** Frequency of the sine baresip sends (30 s, amplitude 8000, then silence). */
  toneHz: number;
  /**
   * Sample rate of that sine: baresip 1.0 does not resample, so it must be
   * the codec's (16000 for G.722, 48000 for Opus, 8000 for G.711).
   */
  toneRate: number;
  /** ... and channel count (2 for opus/48000/2); default 1. */
  toneChannels?: number;
}

/**
 * Debian's baresip as a headless phone (see /work/shared/PEERS.md): it sends
 * a sine (aufile of a WAV written here; ausine runs at 48 kHz only), records what it hears (sndfile, decoded audio as WAV) and
 * takes commands (dial, DTMF) over ctrl_tcp, so a test can send digits once
 * the call is up.
 */
export class Baresip {
  exited?: { code: number | null; output: string };
  private output = '';
  private control: Socket | undefined;

  private constructor(
    private readonly dir: string,
    readonly process: ChildProcess,
  ) {
    const keep = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-20000);
    };
    process.stdout?.on('data', keep);
    process.stderr?.on('data', keep);
    process.on('exit', (code) => {
      this.exited = { code, output: this.output.slice(-4000) };
    });
  }

  static async start(options: BaresipOptions): Promise<Baresip> {
    const dir = mkdtempSync(join(tmpdir(), 'baresip-'));
    const tone = join(dir, 'tone.wav');
    // Amplitude 8000, as CallerMedia's sipp tones.
    writeFileSync(tone, sineWav(options.toneHz, options.toneRate, options.toneChannels ?? 1, 30));
    const modules = ['g711', 'g722', 'opus', 'aufile', 'aubridge', 'sndfile', 'ctrl_tcp', 'menu', 'account'];
    writeFileSync(
      join(dir, 'config'),
      [
        'poll_method epoll',
        `sip_listen 127.0.0.1:${options.sipPort}`,
        'net_interface 127.0.0.1',
        `rtp_ports ${options.rtpPortMin}-${options.rtpPortMin + 19}`,
        `audio_source aufile,${tone}`,
        'audio_player aubridge,nowhere',
        'audio_alert aubridge,nowhere',
        'module_path /usr/lib/baresip/modules',
        ...modules.map((m) => `module ${m}.so`),
        `ctrl_tcp_listen 127.0.0.1:${options.controlPort}`,
        `snd_path ${dir}`,
        'audio_buffer 20-160',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'accounts'), `<sip:phone@127.0.0.1>;regint=0;audio_codecs=${options.codecs.join(',')}\n`);
    const child = spawn('baresip', ['-f', dir], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const phone = new Baresip(dir, child);
    await waitFor(() => /baresip is ready/.test(phone.output) || phone.exited !== undefined, 10_000, 'baresip to start');
    if (phone.exited) throw new Error(`baresip exited at start:\n${phone.exited.output}`);
    phone.control = await new Promise<Socket>((resolve, reject) => {
      const s = connect(options.controlPort, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    });
    phone.control.on('data', (chunk) => {
      phone.output = (phone.output + chunk.toString()).slice(-20000);
    });
    return phone;
  }

  /** A baresip command through ctrl_tcp (netstring-framed JSON). */
  command(command: string, params = ''): void {
    const json = JSON.stringify({ command, params, token: command });
    this.control!.write(`${Buffer.byteLength(json)}:${json},`);
  }

  dial(uri: string): void {
    this.command('dial', uri);
  }

  /** Sends `digits` as RFC 4733 events, one every `gapMs`. */
  async sendDigits(digits: string, gapMs = 250): Promise<void> {
    for (const digit of digits) {
      this.command('sndcode', digit);
      await new Promise((r) => setTimeout(r, gapMs));
    }
  }

  hangup(): void {
    this.command('hangup');
  }

  get log(): string {
    return this.output;
  }

  /** The decoded audio baresip heard (sndfile's "-dec" WAV), as 16-bit samples and their rate. */
  heard(): { samples: Int16Array; rate: number } | undefined {
    const file = readdirSync(this.dir).find((n) => n.startsWith('dump-') && n.endsWith('-dec.wav'));
    if (!file) return undefined;
    const wav = readFileSync(join(this.dir, file));
    // Canonical 44-byte header as libsndfile writes it: channels at 22,
    // rate at 24, data after 44. Stereo (Opus) gives its first channel.
    const channels = wav.readUInt16LE(22);
    const rate = wav.readUInt32LE(24);
    const data = wav.subarray(44);
    const frames = Math.floor(data.length / (2 * channels));
    const samples = new Int16Array(frames);
    for (let i = 0; i < frames; i++) samples[i] = data.readInt16LE(i * 2 * channels);
    return { samples, rate };
  }

  async stop(): Promise<void> {
    this.control?.destroy();
    if (!this.exited) {
      this.process.kill('SIGTERM');
      await waitFor(() => this.exited !== undefined, 5_000, 'baresip to exit').catch(() => this.process.kill('SIGKILL'));
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
