/**
 * In-meeting keypad commands end to end: real sipp callers join meeting
 * 1000, stream tones and press RFC 4733 digits on a script; the test waits
 * for each command's effect on the meeting, then decodes what each caller
 * hears. Prompts and tones are detected by energy in a window, the callers'
 * tones by Goertzel filters.
 */
import { describe, expect, it } from 'vitest';
import type { Participant } from '../../src/conference/Participant.js';
import { rms, toneAmplitude } from '../support/audio.js';
import { RtpSink } from '../support/rtpSink.js';
import { runCaller, type CallerStep, type SippRun } from '../support/sipp.js';
import { useServerWithCallers } from '../support/serverWithCallers.js';
import { sleep, waitFor } from '../support/wait.js';

const PORTS = { sip: 25460, http: 25480, rtpMin: 47000, rtpMax: 47499 };
const HEARD = 1500;
const NOT_HEARD = 300;
/** The error tone (PromptLibrary TONES.error): 300 Hz. */
const ERROR_TONE_HZ = 300;
const CODES = { host: '1111#', participant: '2222#', listener: '3333#' } as const;

const suite = useServerWithCallers(PORTS);
let pcaps = 0;

interface Caller {
  name: string;
  role: keyof typeof CODES;
  /** The tone this caller streams, Hz; none when undefined. */
  frequency?: number;
  /**
   * Keys pressed after joining, as RFC 4733 events replayed by sipp from a
   * pcap while its rtp_stream runs: [pause before, digits]. A pause must
   * outlast the previous keys (200 ms each): sipp stops a pcap when the
   * next one starts. (SIP INFO keys are covered by the other keypad tests.)
   */
  presses?: Array<[number, string]>;
}

/** A running test scene: one sipp process and one sink per caller. */
interface Scene {
  runs: SippRun[];
  sinks: RtpSink[];
  /** The participant of caller i (found by the sipp pid in its Call-ID). */
  participant(i: number): Participant;
}

async function startScene(test: number, callers: Caller[]): Promise<Scene> {
  const sinks = await Promise.all(callers.map((_, i) => RtpSink.open(47500 + 40 * test + 2 * i)));
  const runs = callers.map((caller, i) => {
    const steps: CallerStep[] = [
      { kind: 'pause', ms: 500 },
      { kind: 'pcap', path: suite.media.digits(`${caller.name}-code-${++pcaps}`, CODES[caller.role]) },
      { kind: 'pause', ms: 1500 },
    ];
    if (caller.frequency !== undefined) steps.push({ kind: 'stream', path: suite.media.tone(caller.name, caller.frequency) });
    for (const [pause, digits] of caller.presses ?? []) {
      steps.push({ kind: 'pause', ms: pause }, { kind: 'pcap', path: suite.media.digits(`${caller.name}-keys-${++pcaps}`, digits) });
    }
    // Stays until the bridge hangs up (the test ends the meeting, or a refusal).
    steps.push({ kind: 'expectBye', timeoutMs: 120_000 });
    return runCaller(
      { dialed: '15550100', rtpPort: sinks[i]!.port, steps },
      { serverPort: PORTS.sip, sipPort: 48000 + 10 * test + i, mediaPort: 48100 + 100 * test + 10 * i, timeoutSeconds: 150 },
    );
  });
  const participant = (i: number): Participant => {
    const meeting = suite.server.app.conferenceManager.getMeeting(1000);
    const found = meeting?.participants.find((p) => p.callId.includes(`-${runs[i]!.process.pid}@`));
    if (!found) throw new Error(`caller ${callers[i]!.name} is not in the meeting`);
    return found;
  };
  return { runs, sinks, participant };
}

const meetingNow = () => suite.server.app.conferenceManager.getMeeting(1000);

/** Waits until no caller in the meeting is hearing a prompt or tone. */
async function promptsDone(): Promise<void> {
  await waitFor(() => (meetingNow()?.participants ?? []).every((p) => p.leg.playbackId === undefined), 20_000, 'prompts to finish');
}

/** Lets audio settle, then returns what each sink heard over 1.5 s. */
async function listen(sinks: RtpSink[]): Promise<Int16Array[]> {
  await sleep(700);
  const since = Date.now();
  await sleep(1500);
  return sinks.map((sink) => sink.samplesSince(since));
}

const level = (samples: Int16Array, frequency: number) => Math.round(toneAmplitude(samples, frequency));

/** Number of separate bursts of `frequency` in what a sink heard since `since` (200 ms windows, 100 ms apart). */
function bursts(sink: RtpSink, frequency: number, since = 0, threshold = 2000): number {
  const samples = sink.samplesSince(since);
  let count = 0;
  let inBurst = false;
  for (let start = 0; start + 1600 <= samples.length; start += 800) {
    const on = toneAmplitude(samples.subarray(start, start + 1600), frequency) > threshold;
    if (on && !inBurst) count++;
    inBurst = on;
  }
  return count;
}

async function endScene(scene: Scene): Promise<void> {
  meetingNow()?.end();
  const results = await Promise.all(scene.runs.map((run) => run.done));
  for (const result of results) expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
  await waitFor(() => meetingNow() === undefined, 5_000, 'meeting 1000 to end');
}

function cleanup(scene: Scene | undefined): void {
  for (const run of scene?.runs ?? []) run.process.kill();
  for (const sink of scene?.sinks ?? []) sink.close();
}

describe('keypad commands end to end', () => {
  it("*91 mutes everyone but the host (the host is still heard), *90 brings them back", async () => {
    let scene: Scene | undefined;
    try {
      scene = await startScene(0, [
        { name: 'hana', role: 'host', frequency: 500, presses: [[6000, '*91'], [10_000, '*90']] },
        { name: 'abel', role: 'participant', frequency: 700 },
        { name: 'bea', role: 'participant', frequency: 1700 },
      ]);
      const { sinks, participant } = scene;
      await waitFor(() => meetingNow()?.participants.length === 3, 20_000, 'three callers in meeting 1000', scene.runs);
      let heard = await listen(sinks);
      expect(level(heard[2]!, 700), 'bea hears abel before *91').toBeGreaterThan(HEARD);

      await waitFor(() => participant(1).muted && participant(2).muted, 30_000, '*91 to mute abel and bea', scene.runs);
      const mutedAt = Date.now();
      expect(participant(0).muted).toBe(false);
      await promptsDone();
      // The host heard the confirmation: with everyone else muted, the room is silent around it.
      await sleep(300);
      expect(rms(sinks[0]!.samplesSince(mutedAt)), 'hana hears conf-now-muted').toBeGreaterThan(300);
      heard = await listen(sinks);
      const report = JSON.stringify(heard.map((s) => [500, 700, 1700].map((f) => level(s, f))));
      expect(participant(1).muted, 'still before *90').toBe(true);
      expect(level(heard[1]!, 500), report).toBeGreaterThan(HEARD); // abel hears hana
      expect(level(heard[2]!, 500), report).toBeGreaterThan(HEARD); // bea hears hana
      expect(level(heard[0]!, 700), report).toBeLessThan(NOT_HEARD); // nobody hears abel
      expect(level(heard[2]!, 700), report).toBeLessThan(NOT_HEARD);
      expect(level(heard[0]!, 1700), report).toBeLessThan(NOT_HEARD); // nor bea
      expect(level(heard[1]!, 1700), report).toBeLessThan(NOT_HEARD);
      expect(rms(heard[0]!), 'hana hears silence once the prompt is over').toBeLessThan(200);

      await waitFor(() => !participant(1).muted && !participant(2).muted, 30_000, '*90 to unmute abel and bea', scene.runs);
      await promptsDone();
      heard = await listen(sinks);
      expect(level(heard[0]!, 700), 'hana hears abel again').toBeGreaterThan(HEARD);
      expect(level(heard[1]!, 1700), 'abel hears bea again').toBeGreaterThan(HEARD);
      await endScene(scene);
    } finally {
      cleanup(scene);
    }
  });

  it('*92 locks: a new participant hears the locked prompt and gets BYE, a new host gets in; *93 unlocks', async () => {
    let scene: Scene | undefined;
    const extra: SippRun[] = [];
    const extraSinks: RtpSink[] = [];
    try {
      scene = await startScene(1, [{ name: 'hugo', role: 'host', presses: [[2500, '*92']] }]);
      await waitFor(() => meetingNow()?.locked === true, 30_000, '*92 to lock meeting 1000', scene.runs);
      const lockedAt = Date.now();
      await promptsDone();
      expect(rms(scene.sinks[0]!.samplesSince(lockedAt)), 'hugo hears conf-lockednow').toBeGreaterThan(300);

      extraSinks.push(await RtpSink.open(47590), await RtpSink.open(47592));
      const refused = runCaller(
        {
          dialed: '15550100',
          rtpPort: extraSinks[0]!.port,
          steps: [
            { kind: 'pause', ms: 500 },
            { kind: 'pcap', path: suite.media.digits(`pia-${++pcaps}`, CODES.participant) },
            { kind: 'expectBye', timeoutMs: 30_000 },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 48018, mediaPort: 48800 },
      );
      extra.push(refused);
      const refusedResult = await refused.done;
      expect(refusedResult.code, refusedResult.errors + refusedResult.output.slice(-2000)).toBe(0);
      // After the access-code prompt, it heard the locked prompt before the BYE.
      expect(rms(extraSinks[0]!.samplesSince(0))).toBeGreaterThan(300);
      expect(meetingNow()!.participants).toHaveLength(1);

      const host2 = runCaller(
        {
          dialed: '15550100',
          rtpPort: extraSinks[1]!.port,
          steps: [
            { kind: 'pause', ms: 500 },
            { kind: 'pcap', path: suite.media.digits(`hedy-${++pcaps}`, CODES.host) },
            { kind: 'pause', ms: 2500 },
            { kind: 'info', digits: '*93' },
            { kind: 'expectBye', timeoutMs: 120_000 },
          ],
        },
        { serverPort: PORTS.sip, sipPort: 48019, mediaPort: 48810, timeoutSeconds: 150 },
      );
      extra.push(host2);
      await waitFor(() => meetingNow()?.participants.length === 2, 20_000, 'the second host in the locked meeting', [host2]);
      await waitFor(() => meetingNow()?.locked === false, 20_000, '*93 from the second host to unlock', [host2]);
      // Its scenario pauses after each INFO: let it reach its BYE wait.
      await sleep(1000);
      meetingNow()?.end();
      for (const run of [...scene.runs, host2]) {
        const result = await run.done;
        expect(result.code, result.errors + result.output.slice(-2000)).toBe(0);
      }
      await waitFor(() => meetingNow() === undefined, 5_000, 'meeting 1000 to end');
    } finally {
      cleanup(scene);
      for (const run of extra) run.process.kill();
      for (const sink of extraSinks) sink.close();
    }
  });

  it("*1 toggles one's own audio: the others stop, then start hearing the tone again", async () => {
    let scene: Scene | undefined;
    try {
      scene = await startScene(2, [
        { name: 'hank', role: 'host', frequency: 500 },
        { name: 'ada', role: 'participant', frequency: 700, presses: [[6000, '*1'], [9000, '*1']] },
        { name: 'lou', role: 'listener', frequency: 2300 },
      ]);
      const { sinks, participant } = scene;
      await waitFor(() => meetingNow()?.participants.length === 3, 20_000, 'three callers in meeting 1000', scene.runs);
      let heard = await listen(sinks);
      expect(level(heard[2]!, 700), 'lou hears ada').toBeGreaterThan(HEARD);

      await waitFor(() => participant(1).muted, 30_000, 'ada to mute herself', scene.runs);
      await promptsDone();
      heard = await listen(sinks);
      expect(participant(1).muted, 'still before the second *1').toBe(true);
      expect(level(heard[0]!, 700), 'hank no longer hears ada').toBeLessThan(NOT_HEARD);
      expect(level(heard[2]!, 700), 'lou no longer hears ada').toBeLessThan(NOT_HEARD);
      expect(level(heard[2]!, 500), 'lou still hears hank').toBeGreaterThan(HEARD);
      expect(level(heard[1]!, 500), 'ada still hears hank').toBeGreaterThan(HEARD);

      await waitFor(() => !participant(1).muted, 30_000, 'ada to unmute herself', scene.runs);
      await promptsDone();
      heard = await listen(sinks);
      expect(level(heard[0]!, 700), 'hank hears ada again').toBeGreaterThan(HEARD);
      expect(level(heard[2]!, 700), 'lou hears ada again').toBeGreaterThan(HEARD);
      await endScene(scene);
    } finally {
      cleanup(scene);
    }
  });

  it('*96 holds the meeting: participants hear music and not the hosts, hosts still hear each other', async () => {
    let scene: Scene | undefined;
    // Tones between musical notes, so the music does not sound like them.
    const [H1, H2, P] = [2950, 3150, 1330];
    try {
      scene = await startScene(3, [
        { name: 'holly', role: 'host', frequency: H1, presses: [[6000, '*96'], [11_000, '*96']] },
        { name: 'harry', role: 'host', frequency: H2 },
        { name: 'paul', role: 'participant', frequency: P },
      ]);
      const { sinks, participant } = scene;
      await waitFor(() => meetingNow()?.participants.length === 3, 20_000, 'three callers in meeting 1000', scene.runs);
      let heard = await listen(sinks);
      const before = heard.map((s) => [H1, H2, P].map((f) => level(s, f)));
      expect(before[2]![0], JSON.stringify(before)).toBeGreaterThan(HEARD); // paul hears holly

      await waitFor(() => meetingNow()?.held === true && participant(2).held, 30_000, '*96 to hold the meeting', scene.runs);
      await promptsDone();
      heard = await listen(sinks);
      const during = heard.map((s) => [H1, H2, P].map((f) => level(s, f)));
      const report = JSON.stringify({ before, during, rms: heard.map((s) => Math.round(rms(s))) });
      expect(meetingNow()!.held, 'still before the second *96').toBe(true);
      expect(rms(heard[2]!), report).toBeGreaterThan(100); // paul hears music...
      expect(during[2]![0], report).toBeLessThan(NOT_HEARD); // ...and not the hosts
      expect(during[2]![1], report).toBeLessThan(NOT_HEARD);
      expect(during[0]![1], report).toBeGreaterThan(HEARD); // holly hears harry
      expect(during[1]![0], report).toBeGreaterThan(HEARD); // harry hears holly
      expect(during[0]![2], report).toBeLessThan(NOT_HEARD); // paul is not heard
      expect(during[1]![2], report).toBeLessThan(NOT_HEARD);

      await waitFor(() => meetingNow()?.held === false && !participant(2).held, 30_000, 'the second *96 to end the hold', scene.runs);
      await promptsDone();
      heard = await listen(sinks);
      expect(level(heard[2]!, H1), 'paul hears holly again').toBeGreaterThan(HEARD);
      expect(level(heard[0]!, P), 'holly hears paul again').toBeGreaterThan(HEARD);
      await endScene(scene);
    } finally {
      cleanup(scene);
    }
  });

  it('a listener pressing *91 gets the error tone and nothing changes; an unknown *# gets it too', async () => {
    let scene: Scene | undefined;
    try {
      scene = await startScene(4, [
        { name: 'hera', role: 'host', frequency: 500 },
        { name: 'axel', role: 'participant', frequency: 700 },
        { name: 'lisa', role: 'listener', presses: [[5000, '*91'], [5000, '*#']] },
      ]);
      const { sinks, participant } = scene;
      await waitFor(() => meetingNow()?.participants.length === 3, 20_000, 'three callers in meeting 1000', scene.runs);
      const joinedAt = Date.now();
      const lisa = sinks[2]!;
      await waitFor(() => bursts(lisa, ERROR_TONE_HZ, joinedAt) >= 1, 30_000, 'the error tone after *91', scene.runs);
      expect(participant(1).muted).toBe(false);
      expect(participant(0).muted).toBe(false);
      const heard = await listen(sinks);
      expect(level(heard[0]!, 700), 'hera still hears axel').toBeGreaterThan(HEARD);
      expect(level(heard[2]!, 700), 'lisa still hears axel').toBeGreaterThan(HEARD);
      // Nobody else heard an error tone.
      expect(bursts(sinks[0]!, ERROR_TONE_HZ, joinedAt)).toBe(0);
      expect(bursts(sinks[1]!, ERROR_TONE_HZ, joinedAt)).toBe(0);

      await waitFor(() => bursts(lisa, ERROR_TONE_HZ, joinedAt) >= 2, 30_000, 'the error tone after *#', scene.runs);
      expect(participant(1).muted).toBe(false);
      const meeting = meetingNow()!;
      expect([meeting.locked, meeting.held]).toEqual([false, false]);
      await endScene(scene);
    } finally {
      cleanup(scene);
    }
  });
});
