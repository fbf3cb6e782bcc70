/**
 * Q&A as a pure state machine over a real Meeting (legs are inert fakes):
 * who is muted when, the queue order, and the events for the API.
 */
import { EventEmitter } from 'node:events';
import { beforeEach, describe, expect, it } from 'vitest';
import { Meeting } from '../../../src/conference/Meeting.js';
import { qaPolicyOf } from '../../../src/conference/MeetingQa.js';
import type { Participant } from '../../../src/conference/Participant.js';
import type { Role } from '../../../src/conference/Role.js';
import { createRootLogger } from '../../../src/log.js';
import type { MediaLeg } from '../../../src/media/MediaLeg.js';
import type { MediaRoom } from '../../../src/media/MediaRoom.js';
import type { MeetingRoom } from '../../../src/store/StoreTypes.js';

class FakeLeg extends EventEmitter {
  closed = false;
  held = false;
  playbackId: number | undefined;
  /** Whether the mixer takes this leg's audio, as the meeting last set it. */
  speaking = true;
  join(_room: unknown, membership: { speak: boolean }): void {
    this.speaking = membership.speak;
  }
  update(membership: { speak: boolean }): void {
    this.speaking = membership.speak;
  }
  leave(): void {}
  hold(): void {}
  unhold(): void {}
  setGain(): void {}
  play(): number {
    return 1;
  }
}

let meeting: Meeting;
let events: string[];

function newMeeting(attributes: Array<{ name: string; value: string }> = []): Meeting {
  let next = 0;
  const m = new Meeting(
    { meetingNumber: 1, attributes } as unknown as MeetingRoom,
    { close() {} } as unknown as MediaRoom,
    () => ++next,
    createRootLogger('silent'),
  );
  const qa = m.qa;
  qa.on('qaStarted', (muted) => events.push(`started:${muted.map((p) => p.callId).join(',')}`));
  qa.on('qaStopped', () => events.push('stopped'));
  qa.on('questionQueued', (p, position) => events.push(`queued:${p.callId}@${position}`));
  qa.on('questionWithdrawn', (p) => events.push(`withdrawn:${p.callId}`));
  qa.on('questionTaken', (p) => events.push(`taken:${p.callId}`));
  qa.on('qaCleared', (dropped) => events.push(`cleared:${dropped.map((p) => p.callId).join(',')}`));
  return m;
}

function join(name: string, role: Role, m: Meeting = meeting): Participant {
  return m.join({ callId: name, role, accessCode: '1', caller: name, callee: 'y', leg: new FakeLeg() as unknown as MediaLeg });
}

const speaking = (p: Participant) => (p.leg as unknown as FakeLeg).speaking;

beforeEach(() => {
  events = [];
  meeting = newMeeting();
});

describe('MeetingQa', () => {
  it('start mutes the policy roles only, stop gives back each caller’s mute state from before', () => {
    const host = join('host', 'host');
    const ann = join('ann', 'participant');
    const bob = join('bob', 'participant');
    meeting.updateParticipant(bob, { muted: true });
    expect(meeting.qa.mode).toBe(0);
    expect(meeting.qa.start()).toBe(true);
    expect(meeting.qa.start()).toBe(false);
    expect(meeting.qa.mode).toBe(1);
    expect([host.muted, ann.muted, bob.muted]).toEqual([false, true, true]);
    expect(speaking(ann)).toBe(false);
    expect(speaking(host)).toBe(true);
    expect(meeting.qa.stop()).toBe(true);
    expect(meeting.qa.stop()).toBe(false);
    expect([host.muted, ann.muted, bob.muted]).toEqual([false, false, true]);
    expect(speaking(ann)).toBe(true);
    expect(meeting.qa.mode).toBe(0);
    // Only ann was muted by Q&A: bob was muted already.
    expect(events).toEqual(['started:ann', 'stopped']);
  });

  it('takes raised hands in order: next unmutes the first and mutes the previous questioner again', () => {
    join('host', 'host');
    const ann = join('ann', 'participant');
    const bob = join('bob', 'participant');
    const cy = join('cy', 'participant');
    meeting.qa.start();
    expect(meeting.qa.raiseHand(bob)).toEqual({ ok: true, position: 1 });
    expect(meeting.qa.raiseHand(ann)).toEqual({ ok: true, position: 2 });
    expect(meeting.qa.raiseHand(bob)).toEqual({ ok: false, reason: 'alreadyQueued' });
    expect(meeting.qa.queue).toEqual([bob, ann]);

    expect(meeting.qa.next()).toBe(bob);
    expect(meeting.qa.mode).toBe(2);
    expect([ann.muted, bob.muted, cy.muted]).toEqual([true, false, true]);
    expect(meeting.qa.holdsMuted(bob)).toBe(false);
    expect(meeting.qa.holdsMuted(ann)).toBe(true);
    expect(meeting.qa.raiseHand(bob)).toEqual({ ok: false, reason: 'onTheFloor' });

    expect(meeting.qa.next()).toBe(ann);
    expect([ann.muted, bob.muted, cy.muted]).toEqual([false, true, true]);
    // Nobody left: the floor is nobody's, the questioner is muted again.
    expect(meeting.qa.next()).toBeUndefined();
    expect([ann.muted, bob.muted, cy.muted]).toEqual([true, true, true]);
    expect(meeting.qa.mode).toBe(1);
    expect(events).toEqual(['started:ann,bob,cy', 'queued:bob@1', 'queued:ann@2', 'taken:bob', 'taken:ann']);
  });

  it('clear drops the queue and mutes the questioner; a new hand brings the mode back to active', () => {
    join('host', 'host');
    const ann = join('ann', 'participant');
    const bob = join('bob', 'participant');
    const cy = join('cy', 'participant');
    meeting.qa.start();
    meeting.qa.raiseHand(ann);
    meeting.qa.raiseHand(bob);
    meeting.qa.raiseHand(cy);
    meeting.qa.next();
    expect(meeting.qa.clear()).toEqual([bob, cy]);
    expect(meeting.qa.mode).toBe(4);
    expect(meeting.qa.queue).toEqual([]);
    expect(meeting.qa.questioner).toBeUndefined();
    expect(ann.muted).toBe(true);
    expect(meeting.qa.raiseHand(cy)).toEqual({ ok: true, position: 1 });
    expect(meeting.qa.mode).toBe(1);
    expect(events.slice(-2)).toEqual(['cleared:bob,cy', 'queued:cy@1']);
  });

  it('lowering a hand or hanging up leaves the queue; a questioner who leaves frees the floor', () => {
    const ann = join('ann', 'participant');
    const bob = join('bob', 'participant');
    const cy = join('cy', 'participant');
    meeting.qa.start();
    meeting.qa.raiseHand(ann);
    meeting.qa.raiseHand(bob);
    meeting.qa.raiseHand(cy);
    expect(meeting.qa.lowerHand(bob)).toBe(true);
    expect(meeting.qa.lowerHand(bob)).toBe(false);
    meeting.qa.next();
    expect(meeting.qa.questioner).toBe(ann);
    meeting.leave(ann);
    expect(meeting.qa.questioner).toBeUndefined();
    expect(meeting.qa.mode).toBe(1);
    meeting.leave(cy);
    expect(meeting.qa.queue).toEqual([]);
    expect(meeting.qa.next()).toBeUndefined();
    expect(events).toContain('withdrawn:bob');
    expect(events).toContain('withdrawn:cy');
  });

  it('mutes a caller of a policy role who joins during Q&A, and unmutes them on stop', () => {
    meeting.qa.start();
    const late = join('late', 'participant');
    const host = join('host', 'host');
    expect(late.muted).toBe(true);
    expect(host.muted).toBe(false);
    expect(meeting.qa.raiseHand(late).ok).toBe(true);
    meeting.qa.stop();
    expect(late.muted).toBe(false);
    expect(meeting.qa.queue).toEqual([]);
  });

  it('refuses hands outside Q&A and from callers it does not hold muted', () => {
    const host = join('host', 'host');
    const ann = join('ann', 'participant');
    expect(meeting.qa.raiseHand(ann)).toEqual({ ok: false, reason: 'qaNotActive' });
    expect(meeting.qa.next()).toBeUndefined();
    expect(meeting.qa.clear()).toEqual([]);
    meeting.qa.start();
    expect(meeting.qa.raiseHand(host)).toEqual({ ok: false, reason: 'notMutedByQa' });
    expect(events).toEqual(['started:ann']);
  });

  it('follows conference_qa_policy: with hpl hosts are muted too; a bad value falls back to p', () => {
    const m = newMeeting([{ name: 'conference_qa_policy', value: 'HP' }]);
    const host = join('host', 'host', m);
    const ann = join('ann', 'participant', m);
    m.qa.start();
    expect([host.muted, ann.muted]).toEqual([true, true]);
    expect(qaPolicyOf([])).toBe('p');
    expect(qaPolicyOf([{ name: 'conference_qa_policy', value: 'x;y' }])).toBe('p');
    expect(qaPolicyOf([{ name: 'conference_qa_policy', value: 'pl' }])).toBe('pl');
  });

  it('ends with the meeting', () => {
    join('ann', 'participant');
    meeting.qa.start();
    meeting.end();
    expect(meeting.qa.mode).toBe(0);
    expect(meeting.qa.active).toBe(false);
  });
});
