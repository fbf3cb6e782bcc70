/**
 * Live objects: meetings and calls (seed 004) and the participant actions
 * of seed 003 (lock/unlock a meeting; mute, unmute, deaf, undeaf, kick one
 * participant or all of them).
 */
import type { ConferenceManager } from '../../conference/ConferenceManager.js';
import type { Meeting } from '../../conference/Meeting.js';
import type { Participant } from '../../conference/Participant.js';
import { ROLE_CODES, roleFromCode } from '../../conference/Role.js';
import type { ConferenceStore } from '../../store/StoreTypes.js';
import { normalizePhoneNumber } from '../../conference/PhoneNumber.js';
import { DialError, type Dialer } from '../Dialer.js';
import { ApiError, badRequest, conflict, detail, forbidden, notFound, unprocessable } from '../errors.js';
import type { IvrCall } from '../IvrCalls.js';
import { callMediaOut } from '../callMedia.js';
import type { LegStats } from '../../media/MediaTypes.js';
import { ATTRIBUTE_NAMES } from '../attributeCatalog.js';
import { attributeIsOn } from '../../conference/MeetingPolicy.js';
import { listBody, selectFields } from '../listing.js';
import type { Principal, Router, RouteContext, SubscriberRole } from '../router.js';
import type { ObjectSchema } from '../schema.js';
import * as S from '../schemas.js';
import { canSeeRoom } from './configRoutes.js';

export interface LiveRouteDeps {
  conference: ConferenceManager;
  store: ConferenceStore;
  bridgeName: string;
  nodeName: string;
  /** Called after the API changed a participant, so the event feed can report what the conference layer does not (deaf). */
  participantUpdated?: (meeting: Meeting, participant: Participant) => void;
  /** Answered calls not in a meeting (yet). */
  ivrCalls?: () => IvrCall[];
  /** Outbound calls into a meeting (seed 000); absent until the SIP layer provides them. */
  dialer?: Dialer;
  /** Voice activity of a participant (seed 003 `talking`, `energy_level`). */
  voice?: (participant: Participant) => { talking: boolean; energy: number | null } | undefined;
  /** RTP/RTCP figures of a participant's call; undefined once its media is gone. */
  legStats?: (participant: Participant) => LegStats | undefined;
  /** The meeting recorder (actions recording-start/stop, `isRecording`); without it those actions answer 503. */
  recorder?: MeetingRecorderPort;
}

/** What the API asks of the meeting recorder (src/app/MeetingRecorder). */
export interface MeetingRecorderPort {
  isRecording(meeting: Meeting): boolean;
  request(meeting: Meeting, action: 'start' | 'stop', by: 'operator'): { ok: true } | { ok: false; reason: string };
  /** The live meeting's attributes changed: the recording rules are read again. */
  attributesChanged(meeting: Meeting): void;
}

/** Carries out recording-start/stop for an operator; a refusal becomes the matching 4xx/5xx and changes nothing. */
function recordingAction(recorder: MeetingRecorderPort | undefined, meeting: Meeting, action: 'start' | 'stop'): void {
  if (!recorder) throw new ApiError(503, 'service unavailable', [detail('action', 'recording is not available on this bridge')]);
  const answer = recorder.request(meeting, action, 'operator');
  if (answer.ok) return;
  switch (answer.reason) {
    case 'disabled':
      throw forbidden('recording is off for this meeting (conference_recording off)');
    case 'alreadyRecording':
      throw conflict('the meeting is being recorded already', 'action');
    case 'notRecording':
      throw conflict('the meeting is not being recorded', 'action');
    case 'ended':
      throw notFound('meeting');
    default:
      throw new ApiError(503, 'service unavailable', [detail('action', 'the recording could not be started; see the server log')]);
  }
}

const ALL: SubscriberRole[] = ['administrator', 'operator', 'user'];
type Action = 'mute' | 'unmute' | 'deaf' | 'undeaf' | 'kick';

const seconds = (since: Date): number => Math.max(0, Math.floor((Date.now() - since.getTime()) / 1000));

export function applyAction(meeting: Meeting, participant: Participant, action: Action, updated?: LiveRouteDeps['participantUpdated']): void {
  applyActionOnly(meeting, participant, action);
  updated?.(meeting, participant);
}

function applyActionOnly(meeting: Meeting, participant: Participant, action: Action): void {
  switch (action) {
    case 'mute':
      meeting.updateParticipant(participant, { muted: true });
      return;
    case 'unmute':
      meeting.updateParticipant(participant, { muted: false });
      return;
    case 'deaf':
      meeting.updateParticipant(participant, { deaf: true });
      return;
    case 'undeaf':
      meeting.updateParticipant(participant, { deaf: false });
      return;
    case 'kick':
      return meeting.kick(participant, 'kicked');
  }
}

export function addLiveRoutes(router: Router, deps: LiveRouteDeps): void {
  const { conference, store } = deps;
  const asItems = (schema: unknown) => schema as ObjectSchema<never>;

  const visibleMeetings = (principal: Principal): Meeting[] => conference.meetings.filter((m) => canSeeRoom(principal, m.room));
  const meetingFor = (principal: Principal, meetingNumber: number): Meeting => {
    const meeting = conference.getMeeting(meetingNumber);
    if (!meeting || !canSeeRoom(principal, meeting.room)) throw notFound('meeting');
    return meeting;
  };
  const callFor = (principal: Principal, id: number): { meeting: Meeting; participant: Participant } => {
    for (const meeting of visibleMeetings(principal)) {
      const participant = meeting.getParticipant(id);
      if (participant) return { meeting, participant };
    }
    throw notFound('call');
  };
  const participantIn = (meeting: Meeting, id: number): Participant => {
    const participant = meeting.getParticipant(id);
    if (!participant) throw notFound('participant');
    return participant;
  };

  const subscriberName = (meeting: Meeting): string => {
    const sid = meeting.room.subscriberSid;
    const owner = sid ? store.getSubscriber(sid) : undefined;
    return owner ? [owner.firstName, owner.lastName].filter((n) => n).join(' ') || owner.login : '';
  };

  const meetingOut = (meeting: Meeting) => ({
    attributes: meeting.room.attributes.map((a) => ({ name: a.name, value: a.value })),
    created: meeting.createdAt.getTime(),
    duration: seconds(meeting.createdAt),
    holdMode: meeting.held ? 40 : 0,
    id: meeting.id,
    isLocked: meeting.locked,
    isRecording: deps.recorder?.isRecording(meeting) ?? false,
    isSecured: meeting.locked,
    meetingNumber: meeting.meetingNumber,
    muteMode: 0,
    participantCount: meeting.participants.length,
    qaMode: meeting.qa.mode,
    state: 2,
    subscriberName: subscriberName(meeting),
    type: 0,
  });

  const callOut = (meeting: Meeting, p: Participant) => ({
    accessCode: p.accessCode,
    addressFrom: p.caller,
    addressTo: p.callee,
    bridgeName: deps.bridgeName,
    callee: p.callee,
    caller: p.caller,
    codec: p.leg.codec,
    connectionStatus: 0,
    created: p.joinedAt.getTime(),
    customName: p.customName,
    duration: seconds(p.joinedAt),
    gainLevel: p.gainLevel,
    holdMode: p.held ? 40 : 0,
    id: p.id,
    joined: p.joinedAt.getTime(),
    media: callMediaOut(p.leg.codec, deps.legStats?.(p)),
    meetingNumber: meeting.meetingNumber,
    muteMode: p.muted ? 40 : 0,
    nodeName: deps.nodeName,
    presenterMedia: 1,
    qaMode: 0,
    role: ROLE_CODES[p.role],
    state: 2,
  });

  // A call still in the access-code dialogue: seed 004 state 1 ("owned by the frontend"), no meeting or role yet.
  const ivrCallOut = (c: IvrCall) => ({
    accessCode: '',
    addressFrom: c.caller,
    addressTo: c.callee,
    bridgeName: deps.bridgeName,
    callee: c.callee,
    caller: c.caller,
    codec: c.codec,
    connectionStatus: 0,
    created: c.created,
    customName: '',
    duration: seconds(new Date(c.created)),
    gainLevel: 0,
    holdMode: 0,
    id: c.id,
    joined: 0,
    media: callMediaOut(c.codec, c.stats?.()),
    meetingNumber: 0,
    muteMode: 0,
    nodeName: deps.nodeName,
    presenterMedia: 1,
    qaMode: 0,
    role: 0,
    state: 1,
  });
  // Calls without a room are the operators' to see: users see only their rooms' calls.
  const visibleIvrCalls = (principal: Principal): IvrCall[] => (principal.role === 'user' ? [] : (deps.ivrCalls?.() ?? []));
  const ivrCallFor = (principal: Principal, id: number): IvrCall | undefined => visibleIvrCalls(principal).find((c) => c.id === id);

  const participantOut = (meeting: Meeting, p: Participant) => {
    const membership = p.membership;
    const voice = deps.voice?.(p);
    return {
      participant_id: p.id,
      call_id: p.callId,
      conference_name: String(meeting.meetingNumber),
      caller_id_number: p.caller,
      custom_name: p.customName,
      role: ROLE_CODES[p.role],
      speak: membership.speak,
      hear: membership.hear,
      mute: p.muted,
      deaf: p.deaf,
      talking: voice ? voice.talking : null,
      energy_level: voice ? voice.energy : null,
      is_moderator: p.role === 'host',
      join_time: Math.floor(p.joinedAt.getTime() / 1000),
      duration: seconds(p.joinedAt),
    };
  };

  const item = <T extends object>(value: T, ctx: RouteContext<unknown>) => ({ status: 200, body: selectFields(value, ctx.fields) });

  // Meetings
  router.add({
    method: 'GET', path: '/meetings', tag: 'Meetings', summary: 'Get live meetings', roles: ALL,
    query: 'list', itemSchema: asItems(S.meeting),
    response: { status: 200, description: 'A list of Meeting objects', schema: S.meeting, list: 'meetings' },
    handler: (ctx) => ({ status: 200, body: listBody('meetings', visibleMeetings(ctx.principal).map(meetingOut), ctx.list) }),
  });
  router.add({
    method: 'GET', path: '/meetings/{meetingNumber}', tag: 'Meetings', summary: 'Get a meeting by meetingNumber', roles: ALL,
    integerParams: ['meetingNumber'], query: 'item', itemSchema: asItems(S.meeting),
    response: { status: 200, description: 'The Meeting object', schema: S.meeting },
    handler: (ctx) => item(meetingOut(meetingFor(ctx.principal, ctx.ids.meetingNumber!)), ctx),
  });
  router.add({
    method: 'PUT', path: '/meetings/{meetingNumber}', tag: 'Meetings', summary: 'Perform an action on a meeting (lock, unlock, hold, unhold, qa-start, qa-stop, qa-next, qa-clear, recording-start, recording-stop)', roles: ALL,
    integerParams: ['meetingNumber'], body: S.meetingAction,
    response: { status: 200, description: 'The Meeting object after the action', schema: S.meeting },
    handler: (ctx) => {
      const meeting = meetingFor(ctx.principal, ctx.ids.meetingNumber!);
      // Each action is idempotent: Q&A next/clear outside Q&A change nothing.
      switch (ctx.body.action) {
        case 'lock':
          meeting.lock();
          break;
        case 'unlock':
          meeting.unlock();
          break;
        case 'hold':
        case 'unhold':
          meeting.setHeld(ctx.body.action === 'hold');
          break;
        case 'qa-start':
          meeting.qa.start('operator');
          break;
        case 'qa-stop':
          meeting.qa.stop('operator');
          break;
        case 'qa-next':
          meeting.qa.next('operator');
          break;
        case 'qa-clear':
          meeting.qa.clear('operator');
          break;
        // Not idempotent: 409 tells the caller the meeting already was in that state.
        case 'recording-start':
        case 'recording-stop':
          recordingAction(deps.recorder, meeting, ctx.body.action === 'recording-start' ? 'start' : 'stop');
          break;
      }
      return { status: 200, body: meetingOut(meeting) };
    },
  });
  router.add({
    method: 'DELETE', path: '/meetings/{meetingNumber}', tag: 'Meetings', summary: 'End a meeting: every call is dropped', roles: ALL,
    integerParams: ['meetingNumber'],
    response: { status: 204, description: 'The meeting ended; its calls are being hung up' },
    handler: (ctx) => {
      meetingFor(ctx.principal, ctx.ids.meetingNumber!).end();
      return { status: 204 };
    },
  });
  router.add({
    method: 'GET', path: '/meetings/{meetingNumber}/attributes', tag: 'Meetings', summary: 'Get meeting attributes', roles: ALL,
    integerParams: ['meetingNumber'], query: 'list', itemSchema: asItems(S.meetingAttribute),
    response: { status: 200, description: 'The meeting attributes (a plain array, as in seed 004)', schema: S.meetingAttribute },
    handler: (ctx) => {
      const meeting = meetingFor(ctx.principal, ctx.ids.meetingNumber!);
      const count = (role: string) => String(meeting.participants.filter((p) => p.role === role).length);
      const attributes = [
        ...meeting.room.attributes.map((a) => ({ name: a.name, value: a.value })),
        { name: 'conf_participants_count', value: count('participant') },
        { name: 'conf_hosts_count', value: count('host') },
        { name: 'conf_listeners_count', value: count('listener') },
        { name: 'participant_list', value: meeting.participants.map((p) => p.caller).join(':') },
      ];
      return { status: 200, body: listBody('attributes', attributes, ctx.list).attributes };
    },
  });

  /**
   * Live meeting attributes (seed 004 PUT /meetings/{n}/attributes): they
   * change the live meeting's copy of its room (`meeting.room.attributes`),
   * which the call flow reads for the callers of this meeting; the stored
   * room is untouched and the change ends with the meeting. A null value
   * goes back to the room's stored value.
   */
  const setLiveAttributes = (meeting: Meeting, changes: Array<{ name: string; value: string | number | boolean | null }>, field: (i: number) => string): void => {
    const unknown = changes.flatMap((c, i) => (ATTRIBUTE_NAMES.has(c.name) ? [] : [detail(field(i), `unknown attribute ${JSON.stringify(c.name)}`)]));
    if (unknown.length > 0) throw new ApiError(422, 'object validation error', unknown);
    const stored = store.getMeetingRoom(meeting.meetingNumber)?.attributes ?? [];
    const values = new Map(meeting.room.attributes.map((a) => [a.name, a.value]));
    for (const change of changes) {
      const original = stored.find((a) => a.name === change.name);
      if (change.value !== null) values.set(change.name, String(change.value));
      else if (original) values.set(change.name, original.value);
      else values.delete(change.name);
    }
    meeting.room.attributes = [...values].map(([name, value]) => ({ name, value }));
    deps.recorder?.attributesChanged(meeting);
    if (changes.some((c) => c.name === 'conference_entrytones' || c.name === 'conference_exittones')) {
      const attrs = meeting.room.attributes;
      meeting.setJoinNotifications(attributeIsOn(attrs, 'conference_entrytones') || attributeIsOn(attrs, 'conference_exittones'));
    }
  };
  router.add({
    method: 'PUT', path: '/meetings/{meetingNumber}/attributes', tag: 'Meetings',
    summary: 'Change attributes of the live meeting (null restores the room value)', roles: ALL,
    integerParams: ['meetingNumber'], body: S.meetingAttributeChanges,
    response: { status: 200, description: 'The live meeting attributes (a plain array)', schema: S.meetingAttribute },
    handler: (ctx) => {
      const meeting = meetingFor(ctx.principal, ctx.ids.meetingNumber!);
      setLiveAttributes(meeting, ctx.body, (i) => `${i}.name`);
      return { status: 200, body: meeting.room.attributes.map((a) => ({ name: a.name, value: a.value })) };
    },
  });
  router.add({
    method: 'PUT', path: '/meetings/{meetingNumber}/attributes/{name}', tag: 'Meetings',
    summary: 'Change one attribute of the live meeting (seed 004)', roles: ALL,
    integerParams: ['meetingNumber'], body: S.meetingAttributeValue,
    response: { status: 200, description: 'The attribute as it now is (a plain array, as in seed 004)', schema: S.meetingAttribute },
    handler: (ctx) => {
      const meeting = meetingFor(ctx.principal, ctx.ids.meetingNumber!);
      const name = ctx.params.name!;
      setLiveAttributes(meeting, [{ name, value: ctx.body.value }], () => 'name');
      return { status: 200, body: meeting.room.attributes.filter((a) => a.name === name).map((a) => ({ name: a.name, value: a.value })) };
    },
  });

  // Participants (seed 003)
  router.add({
    method: 'GET', path: '/meetings/{meetingNumber}/participants', tag: 'Participants', summary: "Get the participants' live state", roles: ALL,
    integerParams: ['meetingNumber'], query: 'list', itemSchema: asItems(S.participant),
    response: { status: 200, description: 'Participants (seed 003 read-only state)', schema: S.participant, list: 'participants' },
    handler: (ctx) => {
      const meeting = meetingFor(ctx.principal, ctx.ids.meetingNumber!);
      return { status: 200, body: listBody('participants', meeting.participants.map((p) => participantOut(meeting, p)), ctx.list) };
    },
  });
  router.add({
    method: 'PUT', path: '/meetings/{meetingNumber}/participants', tag: 'Participants',
    summary: 'Perform an action on the participants: mute/unmute/deaf/undeaf apply to all but hosts; kick drops everyone', roles: ALL,
    integerParams: ['meetingNumber'], body: S.participantAction,
    response: { status: 200, description: 'Participants after the action', schema: S.participant, list: 'participants' },
    handler: (ctx) => {
      const meeting = meetingFor(ctx.principal, ctx.ids.meetingNumber!);
      const action = ctx.body.action;
      const targets = action === 'kick' ? meeting.participants : meeting.participants.filter((p) => p.role !== 'host');
      for (const p of targets) applyAction(meeting, p, action, deps.participantUpdated);
      const all = meeting.participants.map((p) => participantOut(meeting, p));
      return { status: 200, body: { participants: all, last: all.length - 1, offset: 0, total: all.length } };
    },
  });
  router.add({
    method: 'GET', path: '/meetings/{meetingNumber}/participants/{participantId}', tag: 'Participants', summary: "Get one participant's live state", roles: ALL,
    integerParams: ['meetingNumber', 'participantId'], query: 'item', itemSchema: asItems(S.participant),
    response: { status: 200, description: 'The participant (seed 003 read-only state)', schema: S.participant },
    handler: (ctx) => {
      const meeting = meetingFor(ctx.principal, ctx.ids.meetingNumber!);
      return item(participantOut(meeting, participantIn(meeting, ctx.ids.participantId!)), ctx);
    },
  });
  router.add({
    method: 'PUT', path: '/meetings/{meetingNumber}/participants/{participantId}', tag: 'Participants', summary: 'Perform an action on one participant', roles: ALL,
    integerParams: ['meetingNumber', 'participantId'], body: S.participantAction,
    response: { status: 200, description: 'The participant after the action', schema: S.participant },
    handler: (ctx) => {
      const meeting = meetingFor(ctx.principal, ctx.ids.meetingNumber!);
      const participant = participantIn(meeting, ctx.ids.participantId!);
      applyAction(meeting, participant, ctx.body.action, deps.participantUpdated);
      return { status: 200, body: participantOut(meeting, participant) };
    },
  });

  // By caller number (seed 002) and calling attendees out (seed 000)
  router.add({
    method: 'PUT', path: '/meetings/{meetingNumber}/callers/{number}', tag: 'Participants',
    summary: 'Perform an action (mute, unmute, deaf, undeaf, kick) on every participant calling from this number (seed 002)', roles: ALL,
    integerParams: ['meetingNumber'], body: S.participantAction,
    response: { status: 200, description: 'The participants the action applied to', schema: S.participant, list: 'participants' },
    handler: (ctx) => {
      const number = normalizePhoneNumber(ctx.params.number!);
      if (number === undefined) throw badRequest('number', 'path parameter must be a phone number (3 to 15 digits, + allowed)');
      const meeting = meetingFor(ctx.principal, ctx.ids.meetingNumber!);
      const targets = meeting.participants.filter((p) => normalizePhoneNumber(p.caller) === number);
      if (targets.length === 0) throw notFound('participant with this caller number');
      for (const p of targets) applyAction(meeting, p, ctx.body.action, deps.participantUpdated);
      const out = targets.map((p) => participantOut(meeting, p));
      return { status: 200, body: { participants: out, last: out.length - 1, offset: 0, total: out.length } };
    },
  });
  router.add({
    method: 'POST', path: '/meetings/{meetingNumber}/calls', tag: 'Meetings',
    summary: 'Call an attendee out into the live meeting (seed 000 conference.attendee.call)', roles: ALL,
    integerParams: ['meetingNumber'], body: S.attendeeCall,
    response: { status: 202, description: 'The call is being placed; add-member on the event feed tells when it joins', schema: S.attendeeCallStarted },
    handler: async (ctx) => {
      const meeting = meetingFor(ctx.principal, ctx.ids.meetingNumber!);
      const number = normalizePhoneNumber(ctx.body.number);
      if (number === undefined) throw unprocessable('number', 'must be a phone number (3 to 15 digits, + allowed)');
      if (!deps.dialer) throw new ApiError(503, 'service unavailable', [detail('cause', 'outbound calls are not configured on this bridge')]);
      const role = roleFromCode(ctx.body.role ?? 2)!;
      try {
        const started = await deps.dialer.dial({ number, meetingNumber: meeting.meetingNumber, role, customName: ctx.body.customName ?? '' });
        return { status: 202, body: { callId: started.callId, number, meetingNumber: meeting.meetingNumber, role: ROLE_CODES[role], state: 4 } };
      } catch (err) {
        if (err instanceof DialError) throw new ApiError(503, 'service unavailable', [detail('cause', err.message)]);
        throw err;
      }
    },
  });

  // Calls
  router.add({
    method: 'GET', path: '/calls', tag: 'Calls', summary: 'Get the calls in live meetings', roles: ALL,
    query: 'list', itemSchema: asItems(S.call),
    response: { status: 200, description: 'A list of Call objects', schema: S.call, list: 'calls' },
    handler: (ctx) => {
      const calls = [
        ...visibleMeetings(ctx.principal).flatMap((m) => m.participants.map((p) => callOut(m, p))),
        ...visibleIvrCalls(ctx.principal).map(ivrCallOut),
      ];
      return { status: 200, body: listBody('calls', calls, ctx.list) };
    },
  });
  router.add({
    method: 'GET', path: '/calls/{id}', tag: 'Calls', summary: 'Get a call by ID', roles: ALL,
    integerParams: ['id'], query: 'item', itemSchema: asItems(S.call),
    response: { status: 200, description: 'The Call object', schema: S.call },
    handler: (ctx) => {
      const ivr = ivrCallFor(ctx.principal, ctx.ids.id!);
      if (ivr) return item(ivrCallOut(ivr), ctx);
      const { meeting, participant } = callFor(ctx.principal, ctx.ids.id!);
      return item(callOut(meeting, participant), ctx);
    },
  });
  router.add({
    method: 'PUT', path: '/calls/{id}', tag: 'Calls', summary: 'Update a call (muteMode, holdMode, gainLevel, role, customName)', roles: ALL,
    integerParams: ['id'], body: S.callUpdate,
    response: { status: 200, description: 'The updated Call object', schema: S.call },
    handler: (ctx) => {
      if (ivrCallFor(ctx.principal, ctx.ids.id!)) throw conflict('the call is not in a meeting yet (state 1); only GET and DELETE apply', 'id');
      const { meeting, participant } = callFor(ctx.principal, ctx.ids.id!);
      const body = ctx.body;
      // The schema has checked every field before anything changes (422
      // naming the field): a refused request changes nothing. holdMode 40
      // holds this call (music, not heard), 0 takes it off hold even while
      // the meeting is held; gainLevel is the caller's input gain in 3 dB steps.
      meeting.updateParticipant(participant, {
        muted: body.muteMode === undefined ? undefined : body.muteMode !== 0,
        role: body.role === undefined ? undefined : roleFromCode(body.role),
        held: body.holdMode === undefined ? undefined : body.holdMode !== 0,
        gainLevel: body.gainLevel,
      });
      if (body.customName !== undefined) participant.customName = body.customName;
      return { status: 200, body: callOut(meeting, participant) };
    },
  });
  router.add({
    method: 'DELETE', path: '/calls/{id}', tag: 'Calls', summary: 'Hang up a call (BYE)', roles: ALL,
    integerParams: ['id'],
    response: { status: 204, description: 'The call is being hung up' },
    handler: (ctx) => {
      const ivr = ivrCallFor(ctx.principal, ctx.ids.id!);
      if (ivr) {
        ivr.hangup('hung up through the API');
        return { status: 204 };
      }
      const { meeting, participant } = callFor(ctx.principal, ctx.ids.id!);
      meeting.kick(participant, 'hung up through the API');
      return { status: 204 };
    },
  });
}
