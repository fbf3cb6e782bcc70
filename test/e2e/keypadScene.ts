/**
 * A keypad test scene: sipp callers join meeting 1000 of the default
 * provisioning with a role's access code, stream a tone each and press
 * keys on a script; one RtpSink per caller records what it hears.
 * Shared by the keypad*.test.ts files, each with its own ports.
 */
import { expect } from 'vitest';
import type { Meeting } from '../../src/conference/Meeting.js';
import type { Participant } from '../../src/conference/Participant.js';
import { toneAmplitude } from '../support/audio.js';
import type { CallerMedia } from '../support/callerMedia.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller, type CallerStep, type SippRun } from '../support/sipp.js';
import type { TestServer } from '../support/testServer.js';
import { sleep, waitFor } from '../support/wait.js';

/** How long a key lasts in a CallerMedia pcap: 100 ms of tone, 100 ms of gap. */
const PCAP_MS_PER_KEY = 200;

export const CODES = { host: '1111#', participant: '2222#', listener: '3333#' } as const;
/** A tone level a caller clearly hears, and one it does not. */
export const HEARD = 1500;
export const NOT_HEARD = 300;

export interface SceneCaller {
  name: string;
  role: keyof typeof CODES;
  /** The tone this caller streams, Hz; none when undefined. */
  frequency?: number;
  /** Keys pressed after joining: [pause before, digits]. */
  presses?: Array<[number, string]>;
  /** How the keys are sent: SIP INFO (default) or RFC 4733 events, replayed by sipp from a pcap. */
  dtmf?: 'info' | 'rfc4733';
}

export interface ScenePorts {
  sipPort: number;
  /** The server's SIP port. */
  serverPort: number;
  /** First sink port (each caller uses two: RTP, RTCP). */
  sinkBase: number;
  /** First sipp media port (each caller uses 10). */
  mediaBase: number;
}

export interface Scene {
  runs: SippRun[];
  sinks: RtpSink[];
  /** The participant of caller i (found by the sipp pid in its Call-ID). */
  participant(i: number): Participant;
}

export function meetingNow(server: TestServer): Meeting | undefined {
  return server.app.conferenceManager.getMeeting(1000);
}

export async function startScene(server: TestServer, media: CallerMedia, ports: ScenePorts, callers: SceneCaller[]): Promise<Scene> {
  const sinks = await Promise.all(callers.map((_, i) => RtpSink.open(ports.sinkBase + 2 * i)));
  const runs = callers.map((caller, i) => {
    const steps: CallerStep[] = [
      { kind: 'pause', ms: 500 },
      { kind: 'pcap', path: media.digits(`${caller.name}-code-${process.hrtime.bigint()}`, CODES[caller.role]) },
      { kind: 'pause', ms: 1500 },
    ];
    if (caller.frequency !== undefined) steps.push({ kind: 'stream', path: media.tone(caller.name, caller.frequency) });
    // sipp stops a pcap when the next one starts: keys sent before the previous ones are out would be lost.
    let previousPcapMs = 0;
    for (const [pause, digits] of caller.presses ?? []) {
      if (caller.dtmf === 'rfc4733') {
        if (pause < previousPcapMs) throw new Error(`${caller.name}: "${digits}" would start before the previous keys have been sent`);
        previousPcapMs = PCAP_MS_PER_KEY * digits.length;
      }
      steps.push(
        { kind: 'pause', ms: pause },
        caller.dtmf === 'rfc4733'
          ? { kind: 'pcap', path: media.digits(`${caller.name}-keys-${process.hrtime.bigint()}`, digits) }
          : { kind: 'info', digits },
      );
    }
    // Stays until the bridge hangs up (the test ends the meeting).
    steps.push({ kind: 'expectBye', timeoutMs: 120_000 });
    return runCaller(
      { dialed: '15550100', rtpPort: sinks[i]!.port, steps },
      { serverPort: ports.serverPort, sipPort: ports.sipPort + i, mediaPort: ports.mediaBase + 10 * i, timeoutSeconds: 150 },
    );
  });
  const participant = (i: number): Participant => {
    const found = meetingNow(server)?.participants.find((p) => p.callId.includes(`-${runs[i]!.process.pid}@`));
    if (!found) throw new Error(`caller ${callers[i]!.name} is not in the meeting`);
    return found;
  };
  return { runs, sinks, participant };
}

/** Waits until no caller in the meeting is hearing a prompt or tone. */
export async function promptsDone(server: TestServer): Promise<void> {
  await waitFor(() => (meetingNow(server)?.participants ?? []).every((p) => p.leg.playbackId === undefined), 20_000, 'prompts to finish');
}

/** Lets audio settle, then returns what each sink heard over 1.5 s. */
export async function listen(sinks: RtpSink[]): Promise<Int16Array[]> {
  await sleep(700);
  const since = Date.now();
  await sleep(1500);
  return sinks.map((sink) => sink.samplesSince(since));
}

export const level = (samples: Int16Array, frequency: number): number => Math.round(toneAmplitude(samples, frequency));

/** Ends the meeting (BYE to everyone) and checks each sipp ran its script to the end. */
export async function endScene(server: TestServer, scene: Scene): Promise<void> {
  meetingNow(server)?.end();
  const results = await Promise.all(scene.runs.map((run) => run.done));
  for (const result of results) expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
  await waitFor(() => meetingNow(server) === undefined, 5_000, 'meeting 1000 to end');
}

export function cleanupScene(scene: Scene | undefined): void {
  for (const run of scene?.runs ?? []) run.process.kill();
  for (const sink of scene?.sinks ?? []) sink.close();
}
