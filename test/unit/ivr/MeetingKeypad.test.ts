/**
 * The in-meeting keypad driver over a real Meeting and a fake leg: which
 * prompt or tone each caller hears and what each command changes.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Meeting } from '../../../src/conference/Meeting.js';
import type { Role } from '../../../src/conference/Role.js';
import type { InviteOutcome } from '../../../src/ivr/Dialer.js';
import { MeetingKeypad, nextEntryExitTones, participantCountPrompts, questionerPrompts, type KeypadServices } from '../../../src/ivr/MeetingKeypad.js';
import { sayNumber } from '../../../src/ivr/sayNumber.js';
import { createRootLogger } from '../../../src/log.js';
import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import type { MediaRoom } from '../../../src/media/MediaRoom.js';
import type { Sound } from '../../../src/media/Sound.js';
import type { MeetingRoom } from '../../../src/store/StoreTypes.js';

class FakeLeg extends EventEmitter {
  closed = false;
  held = false;
  playbackId: number | undefined;
  /** What the caller heard, as prompt or tone names. */
  heard: string[] = [];
  private nextId = 0;
  join(): void {}
  update(): void {}
  leave(): void {}
  hold(): void {
    this.held = true;
  }
  unhold(): void {
    this.held = false;
  }
  setGain(): void {}
  play(sounds: Array<{ source: string }>): number {
    this.heard.push(sounds.map((s) => s.source).join(' '));
    return ++this.nextId;
  }
}

const prompts = {
  resolve: (names: string[]) => names.map((n) => ({ source: n }) as unknown as Sound),
  tone: (name: string) => [{ source: `tone:${name}` } as unknown as Sound],
};

let meeting: Meeting;
/** What each keypad asked the call flow to say before hanging up, and why. */
let leaves: Array<{ prompts: string[]; reason: string }>;

function caller(role: Role, services: KeypadServices = {}) {
  const leg = new FakeLeg();
  const participant = meeting.join({ callId: role, role, accessCode: '1', caller: 'x', callee: 'y', leg: leg as unknown as MediaLeg });
  const keypad = new MeetingKeypad({
    meeting,
    participant,
    leg: leg as unknown as MediaLeg,
    prompts,
    logger: createRootLogger('silent'),
    leave: (prompts, reason) => leaves.push({ prompts, reason }),
    services,
  });
  const press = (digits: string) => {
    for (const d of digits) keypad.digit(d);
  };
  return { leg, participant, keypad, press };
}

beforeEach(() => {
  let next = 0;
  meeting = new Meeting({ meetingNumber: 1, attributes: [] } as unknown as MeetingRoom, { close() {} } as unknown as MediaRoom, () => ++next, createRootLogger('silent'));
  leaves = [];
});

afterEach(() => {
  vi.useRealTimers();
});

describe('MeetingKeypad', () => {
  it('*1 toggles the caller’s own mute with conf-muted / conf-unmuted', () => {
    const alice = caller('participant');
    alice.press('*1');
    expect(alice.participant.muted).toBe(true);
    alice.press('*1');
    expect(alice.participant.muted).toBe(false);
    expect(alice.leg.heard).toEqual(['conf-muted', 'conf-unmuted']);
  });

  it('*91 / *90 mute and unmute all but hosts: the host gets conf-now-muted, the affected hear conf-muted', () => {
    const host = caller('host');
    const alice = caller('participant');
    host.press('*91');
    expect(alice.participant.muted).toBe(true);
    expect(host.participant.muted).toBe(false);
    expect(host.leg.heard).toEqual(['conf-now-muted']);
    expect(alice.leg.heard).toEqual(['conf-muted']);
    host.press('*90');
    expect(alice.participant.muted).toBe(false);
    expect(host.leg.heard).toEqual(['conf-now-muted', 'conf-now-unmuted']);
    expect(alice.leg.heard).toEqual(['conf-muted', 'conf-unmuted']);
  });

  it('denies host commands to others with the error tone and changes nothing', () => {
    caller('host');
    const alice = caller('participant');
    const lena = caller('listener');
    lena.press('*91');
    alice.press('*92');
    expect(alice.participant.muted).toBe(false);
    expect(meeting.locked).toBe(false);
    expect(lena.leg.heard).toEqual(['tone:error']);
    expect(alice.leg.heard).toEqual(['tone:error']);
    // A listener can never be heard: *1 is an error too.
    lena.press('*1');
    expect(lena.leg.heard).toEqual(['tone:error', 'tone:error']);
  });

  it('*92 / *93 lock and unlock; *94 / *95 switch join notifications; *96 holds non-hosts', () => {
    const host = caller('host');
    const alice = caller('participant');
    host.press('*92');
    expect(meeting.locked).toBe(true);
    host.press('*93');
    expect(meeting.locked).toBe(false);
    host.press('*95');
    expect(meeting.joinNotifications).toBe(true);
    host.press('*94');
    expect(meeting.joinNotifications).toBe(false);
    host.press('*96');
    expect(meeting.held).toBe(true);
    expect(alice.leg.held).toBe(true);
    expect(host.leg.held).toBe(false);
    host.press('*96');
    expect(alice.leg.held).toBe(false);
    expect(host.leg.heard).toEqual([
      'conf-lockednow',
      'conf-unlockednow',
      'tone:confirmOn',
      'tone:confirmOff',
      'tone:confirmOn',
      'tone:confirmOff',
    ]);
  });

  it('*2 says the count, *4 the menu for the role, *3 says goodbye then hangs up', () => {
    const host = caller('host');
    const alice = caller('participant');
    host.press('*2');
    alice.press('*4');
    host.press('*4');
    expect(host.leg.heard[0]).toBe('conf-onlyone');
    // Our own key layout, only what the role may use: the host hears *91, a participant does not.
    expect(host.leg.heard[1]).toContain('for conf-now-muted vm-press digits/star digits/9 digits/1');
    expect(host.leg.heard[1]).toContain('confbridge-lock-in vm-press digits/star digits/9 digits/2 vm-and digits/star digits/9 digits/3');
    expect(alice.leg.heard[0]).toBe(
      'confbridge-mute-in vm-press digits/star digits/1 for conf-otherinparty vm-press digits/star digits/2 ' +
        'to-call-this-number vm-press digits/star digits/8 confbridge-leave-in vm-press digits/star digits/3',
    );
    alice.press('*3');
    expect(leaves).toEqual([{ prompts: ['goodbye'], reason: 'caller left (keypad exit)' }]);
    // Leaving: further keys do nothing.
    alice.press('*3*2');
    expect(leaves).toHaveLength(1);
    expect(alice.leg.heard).toHaveLength(1);
  });

  it('answers unknown sequences, unavailable commands and an unfinished sequence with the error tone', () => {
    vi.useFakeTimers();
    const host = caller('host');
    host.press('*#');
    host.press('*7'); // recording: not available yet
    host.press('*9'); // waits for the next digit...
    expect(host.leg.heard).toEqual(['tone:error', 'tone:error']);
    vi.advanceTimersByTime(3000); // ...then gives up
    expect(host.leg.heard).toEqual(['tone:error', 'tone:error', 'tone:error']);
    host.press('*8'); // invite: collects a number, then not available
    host.press('5551234#');
    expect(host.leg.heard).toHaveLength(4);
    expect(host.leg.heard.at(-1)).toBe('tone:error');
  });

  it('Q&A: *97 starts it (policy roles muted), *5 raises and lowers a hand, *98 takes the queue in order, *99 clears, *97 stops', () => {
    const host = caller('host');
    const ann = caller('participant');
    const bob = caller('participant');
    const lena = caller('listener');
    ann.press('*97');
    expect(meeting.qa.active).toBe(false);
    expect(ann.leg.heard).toEqual(['tone:error']);
    ann.press('*5'); // no Q&A yet
    expect(ann.leg.heard).toEqual(['tone:error', 'tone:error']);

    host.press('*97');
    expect(meeting.qa.active).toBe(true);
    expect(host.leg.heard).toEqual(['activated']);
    expect([ann.participant.muted, bob.participant.muted, host.participant.muted]).toEqual([true, true, false]);
    expect(ann.leg.heard.at(-1)).toBe('conf-muted');
    // Under Q&A one cannot unmute oneself: the floor is the host's to give.
    ann.press('*1');
    expect(ann.participant.muted).toBe(true);
    expect(ann.leg.heard.at(-1)).toBe('tone:error');

    bob.press('*5');
    ann.press('*5');
    // "You are currently caller number 1 / 2."
    expect(bob.leg.heard.at(-1)).toBe('queue-thereare digits/1');
    expect(ann.leg.heard.at(-1)).toBe('queue-thereare digits/2');
    // A listener is never muted by the participant policy: no hand to raise.
    lena.press('*5');
    expect(lena.leg.heard).toEqual(['tone:error']);
    expect(meeting.qa.queue.map((p) => p.callId)).toEqual([bob.participant.callId, ann.participant.callId]);

    host.press('*98');
    expect(bob.participant.muted).toBe(false);
    expect(bob.leg.heard.at(-1)).toBe('conf-unmuted');
    expect(host.leg.heard.at(-1)).toBe('conf-unmuted'); // the caller 'x' has no digits to say
    host.press('*98');
    expect([ann.participant.muted, bob.participant.muted]).toEqual([false, true]);
    host.press('*98'); // nobody left
    expect(host.leg.heard.at(-1)).toBe('tone:confirmOff');
    expect(ann.participant.muted).toBe(true);

    bob.press('*5');
    bob.press('*5'); // lowers it again
    expect(bob.leg.heard.slice(-2)).toEqual(['queue-thereare digits/1', 'removed']);
    ann.press('*5');
    host.press('*99');
    expect(meeting.qa.queue).toEqual([]);
    expect(host.leg.heard.at(-1)).toBe('cancelled');

    host.press('*97');
    expect(meeting.qa.active).toBe(false);
    expect(host.leg.heard.at(-1)).toBe('de-activated');
    expect([ann.participant.muted, bob.participant.muted]).toEqual([false, false]);
    // Without Q&A, next and clear are errors.
    host.press('*98');
    host.press('*99');
    expect(host.leg.heard.slice(-2)).toEqual(['tone:error', 'tone:error']);
  });

  it('says the questioner’s number to the host', () => {
    expect(questionerPrompts('+1 (555) 01')).toEqual(['telephone-number', 'digits/1', 'digits/5', 'digits/5', 'digits/5', 'digits/0', 'digits/1']);
    expect(questionerPrompts('anonymous')).toEqual(['conf-unmuted']);
  });

  it('*8 number # invites through the dialer: hold prompt while it rings, then joined or why not', async () => {
    const calls: string[] = [];
    let answer: (outcome: InviteOutcome) => void = () => {};
    const dialer = {
      invite: (number: string) => {
        calls.push(number);
        return new Promise<InviteOutcome>((resolve) => (answer = resolve));
      },
    };
    const host = caller('host', { dialer });
    host.press('*815551234#');
    expect(calls).toEqual(['15551234']);
    expect(host.leg.heard).toEqual(['pls-hold-while-try']);
    host.press('*8999#'); // one invitation at a time
    expect(calls).toHaveLength(1);
    expect(host.leg.heard.at(-1)).toBe('tone:error');
    const callee = meeting.join({ callId: 'callee', role: 'participant', accessCode: '', caller: '+15551234', callee: 'y', leg: new FakeLeg() as unknown as MediaLeg });
    answer({ ok: true, participant: callee });
    await Promise.resolve();
    await Promise.resolve();
    expect(host.leg.heard.at(-1)).toBe('conf-userwilljoin');

    host.press('*8555#');
    answer({ ok: false, reason: 'notAnswering' });
    await new Promise((r) => setImmediate(r));
    expect(host.leg.heard.at(-1)).toBe('tone:error number-not-answering');
    host.press('*8556#');
    answer({ ok: false, reason: 'unavailable' });
    await new Promise((r) => setImmediate(r));
    expect(host.leg.heard.at(-1)).toBe('tone:error cannot-complete-as-dialed');

    // A locked meeting takes no one in: nothing is dialed.
    meeting.lock();
    host.press('*8557#');
    expect(calls).toEqual(['15551234', '555', '556']);
    expect(host.leg.heard.at(-1)).toBe('tone:error conf-locked');
  });

  it('*8: a dialer that throws is a failure the caller hears; listeners may not invite; no dialer means the error tone', async () => {
    const host = caller('host', { dialer: { invite: () => Promise.reject(new Error('boom')) } });
    host.press('*8123#');
    await new Promise((r) => setImmediate(r));
    expect(host.leg.heard).toEqual(['pls-hold-while-try', 'tone:error cannot-complete-as-dialed']);
    const lena = caller('listener', { dialer: { invite: () => Promise.reject(new Error('not reached')) } });
    lena.press('*8');
    expect(lena.leg.heard).toEqual(['tone:error']);
    const plain = caller('participant');
    plain.press('*8123#');
    expect(plain.leg.heard).toEqual(['tone:error']);
  });

  it('004 features through their services: recording, operator, schedule extend, polling, entry/exit tones', () => {
    const calls: string[] = [];
    let recording = false;
    let tones = { entry: true, exit: true };
    const services: KeypadServices = {
      recording: {
        isRecording: () => recording,
        recordingRequested: (_m, action, by) => {
          calls.push(`recording ${action} by ${by.callId}`);
          // The third request is refused (say, conference_recording turned off meanwhile).
          if (calls.filter((c) => c.startsWith('recording')).length === 3) return { ok: false };
          recording = action === 'start';
          return { ok: true };
        },
      },
      operatorRequested: (_m, p) => calls.push(`operator for ${p.callId}`),
      // The first extension works, the next one is past the limit.
      extendSchedule: () => calls.push('extend') > 0 && calls.filter((c) => c === 'extend').length === 1,
      pollingRequested: () => calls.push('polling'),
      entryExitTones: { get: () => tones, set: (_m, next) => (tones = next) },
    };
    const bindings = [
      { command: 'recordingToggle' as const, sequence: '*7', roles: 'h' },
      { command: 'operator' as const, sequence: '*0', roles: 'hpl' },
      { command: 'scheduleExtend' as const, sequence: '*#1', roles: 'h' },
      { command: 'polling' as const, sequence: '*6', roles: 'h' },
      { command: 'entryExitTonesCycle' as const, sequence: '*#2', roles: 'h' },
    ];
    const leg = new FakeLeg();
    const participant = meeting.join({ callId: 'host', role: 'host', accessCode: '1', caller: 'x', callee: 'y', leg: leg as unknown as MediaLeg });
    const keypad = new MeetingKeypad({ meeting, participant, leg: leg as unknown as MediaLeg, prompts, logger: createRootLogger('silent'), leave: () => {}, bindings, services });
    for (const d of '*7*7*7*0*#1*#1*6*#2*#2*#2*#2') keypad.digit(d);
    expect(calls).toEqual(['recording start by host', 'recording stop by host', 'recording start by host', 'operator for host', 'extend', 'extend', 'polling']);
    expect(leg.heard).toEqual([
      'tone:confirmOn',
      'tone:confirmOff',
      'tone:error',
      'one-moment-please',
      'conf-extended',
      'conf-nonextended',
      'tone:confirmOn',
      'enabled disabled',
      'disabled enabled',
      'disabled disabled',
      'enabled enabled',
    ]);
    expect(tones).toEqual({ entry: true, exit: true });
  });

  it('without their services those features answer with the error tone; the tone cycle falls back to join notifications', () => {
    const bindings = [
      { command: 'recordingToggle' as const, sequence: '*7', roles: 'h' },
      { command: 'operator' as const, sequence: '*0', roles: 'hpl' },
      { command: 'entryExitTonesCycle' as const, sequence: '*#', roles: 'h' },
    ];
    const leg = new FakeLeg();
    const participant = meeting.join({ callId: 'host', role: 'host', accessCode: '1', caller: 'x', callee: 'y', leg: leg as unknown as MediaLeg });
    const keypad = new MeetingKeypad({ meeting, participant, leg: leg as unknown as MediaLeg, prompts, logger: createRootLogger('silent'), leave: () => {}, bindings });
    expect(meeting.joinNotifications).toBe(false);
    for (const d of '*7*0*#') keypad.digit(d);
    expect(meeting.joinNotifications).toBe(true);
    expect(leg.heard).toEqual(['tone:error', 'tone:error', 'tone:confirmOn']);
  });

  it('cycles entry:exit tones as seed 004 lists them', () => {
    let tones = { entry: true, exit: true };
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      tones = nextEntryExitTones(tones);
      seen.push(`${tones.entry ? 'ON' : 'OFF'}:${tones.exit ? 'ON' : 'OFF'}`);
    }
    expect(seen).toEqual(['ON:OFF', 'OFF:ON', 'OFF:OFF', 'ON:ON']);
  });

  it('the help menu leaves out self mute for a listener', () => {
    const lena = caller('listener');
    lena.press('*4');
    expect(lena.leg.heard[0]).not.toContain('confbridge-mute-in');
    expect(lena.leg.heard[0]).toContain('confbridge-leave-in');
  });

  it('stops listening once disposed', () => {
    const alice = caller('participant');
    alice.keypad.dispose();
    alice.press('*1');
    expect(alice.participant.muted).toBe(false);
    meeting.muteAllButHosts(true);
    expect(alice.leg.heard).toEqual([]);
  });
});

describe('MeetingKeypad reports', () => {
  it('reports every completed sequence with how it ended, denied and unknown ones too', () => {
    vi.useFakeTimers();
    const reports: Array<{ command: string | null; sequence: string; outcome: string; participant: number }> = [];
    const services: KeypadServices = {
      commandCarriedOut: (r) => reports.push({ command: r.command, sequence: r.sequence, outcome: r.outcome, participant: r.participant.id }),
    };
    const host = caller('host', services);
    const alice = caller('participant', services);
    alice.press('*1');
    alice.press('*92');
    host.press('*92');
    host.press('*98');
    host.press('*7');
    alice.press('*#');
    alice.press('*9');
    vi.advanceTimersByTime(3000);
    host.press('*8555#');
    expect(reports).toEqual([
      { command: 'selfMuteToggle', sequence: '*1', outcome: 'done', participant: alice.participant.id },
      { command: 'lock', sequence: '*92', outcome: 'denied', participant: alice.participant.id },
      { command: 'lock', sequence: '*92', outcome: 'done', participant: host.participant.id },
      { command: 'qaNext', sequence: '*98', outcome: 'refused', participant: host.participant.id },
      { command: 'recordingToggle', sequence: '*7', outcome: 'unavailable', participant: host.participant.id },
      { command: null, sequence: '*#', outcome: 'unknown', participant: alice.participant.id },
      // Cut by the inter-digit pause.
      { command: null, sequence: '*9', outcome: 'unknown', participant: alice.participant.id },
      // No dialer here.
      { command: 'invite', sequence: '*8', outcome: 'unavailable', participant: host.participant.id },
    ]);
    expect(meeting.locked).toBe(true);
  });

  it('a failing report port costs the caller nothing', () => {
    const alice = caller('participant', {
      commandCarriedOut: () => {
        throw new Error('feed down');
      },
    });
    alice.press('*1');
    alice.press('*1');
    expect(alice.participant.muted).toBe(false);
    expect(alice.leg.heard).toEqual(['conf-muted', 'conf-unmuted']);
  });
});

describe('counting prompts', () => {
  it('says numbers with the digits recordings', () => {
    expect(sayNumber(0)).toEqual(['digits/0']);
    expect(sayNumber(7)).toEqual(['digits/7']);
    expect(sayNumber(20)).toEqual(['digits/20']);
    expect(sayNumber(25)).toEqual(['digits/20', 'digits/5']);
    expect(sayNumber(342)).toEqual(['digits/3', 'digits/hundred', 'digits/40', 'digits/2']);
    expect(sayNumber(1015)).toEqual(['digits/1', 'digits/thousand', 'digits/15']);
  });
  it('says alone, one other, or there are N others', () => {
    expect(participantCountPrompts(0)).toEqual(['conf-onlyperson']);
    expect(participantCountPrompts(1)).toEqual(['conf-onlyone']);
    expect(participantCountPrompts(12)).toEqual(['conf-thereare', 'digits/12', 'conf-otherinparty']);
  });
});
