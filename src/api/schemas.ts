/**
 * The seed 004 objects as schemas: response shapes (for the OpenAPI
 * document, filter and field-filter validation) and request shapes (which
 * validate bodies). Field names follow seed 004 exactly.
 */
import { GAIN_LEVEL_MAX, GAIN_LEVEL_MIN, GAIN_LEVEL_STEP_DB } from '../conference/MeetingPolicy.js';
import { ATTRIBUTE_NAMES } from './attributeCatalog.js';
import { s } from './schema.js';

const id = () => s.integer({ minimum: 0 }).readOnly();
const text = (maxLength: number) => s.string({ maxLength });

export const roleCode = s.enum(1, 2, 3).describe('1 host, 2 participant, 3 listener');
export const subscriberRoleCode = s.enum(1, 2, 3).describe('1 administrator, 2 operator, 3 user');

export const attribute = s.object({
  name: s.string(),
  value: s.string(),
  description: s.optional(s.string()),
  group: s.optional(s.integer()),
});

export const attributeChange = s.object({
  name: s.string({ pattern: /^[a-z_]+$/, patternDescription: 'an attribute name' }),
  value: s.nullable(s.anyOf<string | number | boolean>(s.string({ maxLength: 1024 }), s.integer(), s.boolean())).describe(
    'The value (integers and booleans are stored as text); null removes the attribute.',
  ),
});

export function unknownAttributes(changes: Array<{ name: string }>): string[] {
  return changes.map((c) => c.name).filter((name) => !ATTRIBUTE_NAMES.has(name));
}

export const attributeTemplate = s.object({
  description: s.string(),
  enumValues: s.string(),
  group: s.integer(),
  name: s.string(),
  type: s.integer(),
  value: s.string(),
});

export const callFlow = s.object({
  attributeTemplates: s.optional(s.array(attributeTemplate)),
  id: id(),
  name: s.string(),
  path: s.string(),
});

export const phoneNumber = s.string({
  pattern: /^\+?[0-9]{3,15}$/,
  patternDescription: 'a phone number in E.164 form (3 to 15 digits, optional leading +)',
});

export const did = s.object({
  attributes: s.array(attribute),
  countryCode: s.nullable(s.string()).readOnly(),
  description: s.string(),
  didGroupId: s.integer(),
  id: id(),
  phoneNumber: s.string(),
  state: s.integer().readOnly(),
});

export const didCreate = s.object({
  didGroupId: s.integer({ minimum: 1 }),
  phoneNumber,
  description: s.optional(text(1024)),
  attributes: s.optional(s.array(attributeChange, { maxItems: 100 })),
});

export const didUpdate = didCreate.partial({ minProperties: 1 });

export const didGroup = s.object({
  attributes: s.array(attribute),
  callFlowId: s.integer(),
  description: s.string(),
  dids: s.array(did).readOnly(),
  id: id(),
  name: s.string(),
  state: s.integer().readOnly(),
  subscriberSid: s.nullable(s.string()).readOnly(),
});

export const didGroupCreate = s.object({
  name: s.string({ minLength: 1, maxLength: 128 }),
  callFlowId: s.optional(s.enum(1, 3).describe('1 SPECTEL, 3 CONF')),
  description: s.optional(text(1024)),
  attributes: s.optional(s.array(attributeChange, { maxItems: 100 })),
});

export const didGroupUpdate = didGroupCreate.partial({ minProperties: 1 });

export const didGroupReference = s.object({
  didGroupId: s.integer({ minimum: 1 }),
  state: s.enum(0, 1, 2).describe('0 active, 1 invalidated, 2 disabled'),
});

export const accessCode = s.string({ pattern: /^[0-9*]{1,16}$/, patternDescription: '1 to 16 DTMF digits (0-9, *)' });

export const meetingKey = s.object({
  accessCode: s.string(),
  id: id(),
  role: roleCode,
});

export const meetingKeyCreate = s.object({ accessCode, role: roleCode });
export const meetingKeyUpdate = meetingKeyCreate.partial({ minProperties: 1 });
export const meetingKeyInRoom = s.object({ accessCode, role: roleCode, id: s.optional(s.integer({ minimum: 1 })) });

export const meetingRoom = s.object({
  attributes: s.array(attribute),
  created: s.integer().readOnly(),
  description: s.string(),
  didGroupReferences: s.array(didGroupReference),
  keychain: s.array(meetingKey),
  meetingNumber: s.integer(),
  primaryDidGroupId: s.integer(),
  subscriberSid: s.nullable(s.string()).readOnly(),
});

export const meetingRoomCreate = s.object({
  primaryDidGroupId: s.integer({ minimum: 1 }),
  meetingNumber: s.optional(s.integer({ minimum: 1, maximum: 999_999_999 })),
  description: s.optional(text(1024)),
  didGroupReferences: s.optional(s.array(didGroupReference, { maxItems: 100 })),
  keychain: s.optional(s.array(meetingKeyInRoom, { maxItems: 100 })),
  attributes: s.optional(s.array(attributeChange, { maxItems: 100 })),
});

export const meetingRoomUpdate = meetingRoomCreate.partial({ minProperties: 1 });

export const callback = s.object({
  id: id(),
  url: s.string(),
  secret: s.optional(s.string().describe('The webhook signing secret: only in the answer to the request that made it.')),
});

export const subscriber = s.object({
  callback: s.optional(callback.describe('Where this subscriber\'s webhooks go (absent when none is set).')),
  created: s.integer().readOnly(),
  details: s.string(),
  didGroupReferences: s.array(didGroupReference),
  email: s.string(),
  externalId: s.integer().readOnly(),
  firstName: s.string(),
  lastName: s.string(),
  login: s.string(),
  parentSid: s.nullable(s.string()).readOnly(),
  phoneNumber: s.string(),
  role: subscriberRoleCode,
  sid: s.string().readOnly(),
});

export const subscriberCreate = s.object({
  login: s.string({ pattern: /^[A-Za-z0-9_.@-]{1,64}$/, patternDescription: '1 to 64 letters, digits or _ . @ -' }),
  password: s.string({ minLength: 8, maxLength: 256 }).writeOnly(),
  role: s.optional(subscriberRoleCode),
  firstName: s.optional(text(128)),
  lastName: s.optional(text(128)),
  email: s.optional(text(256)),
  phoneNumber: s.optional(text(32)),
  details: s.optional(text(1024)),
  callback: s.optional(
    s.nullable(
      s.object({
        url: s.string({ maxLength: 2048 }).describe('http or https URL receiving the events as signed POSTs'),
        secret: s.optional(s.string({ minLength: 16, maxLength: 256 }).writeOnly().describe('HMAC-SHA256 key; made by the server when absent')),
      }),
    ).describe('null removes the callback'),
  ),
  eventCallbackUrl: s.optional(s.nullable(s.string({ maxLength: 2048 })).describe('Seed 004\'s shortcut for callback.url')),
  didGroupReferences: s.optional(s.array(didGroupReference, { maxItems: 100 }).describe('Administrators only: the DID groups a user may create rooms on')),
});

export const subscriberUpdate = subscriberCreate.partial({ minProperties: 1 });

export const meeting = s.object({
  attributes: s.array(attribute),
  created: s.integer().readOnly(),
  duration: s.integer().readOnly(),
  holdMode: s.integer().readOnly(),
  id: id(),
  isLocked: s.boolean().readOnly().describe('Seed 003 lock state: a locked meeting admits hosts only.'),
  isRecording: s.boolean().readOnly(),
  isSecured: s.boolean().readOnly().describe('Same as isLocked.'),
  meetingNumber: s.integer().readOnly(),
  muteMode: s.integer().readOnly(),
  participantCount: s.integer().readOnly(),
  qaMode: s.integer().readOnly(),
  state: s.integer().readOnly(),
  subscriberName: s.string().readOnly(),
  type: s.integer().readOnly(),
});

export const meetingAction = s.object({
  action: s.enum('lock', 'unlock', 'hold', 'unhold', 'qa-start', 'qa-stop', 'qa-next', 'qa-clear', 'recording-start', 'recording-stop'),
});

export const recording = s.object({
  id: id(),
  meetingNumber: s.integer().readOnly(),
  subscriberSid: s.nullable(s.string()).readOnly().describe("The meeting room's owner; null for rooms without one (administrators and operators see those)"),
  name: s.string().readOnly().describe("The file name; with a subscriber it is also one of the subscriber's files"),
  created: s.integer().readOnly().describe('When the recording started (ms since the epoch)'),
  duration: s.integer().readOnly().describe('Milliseconds of audio'),
  size: s.integer().readOnly(),
  framesDropped: s.integer().readOnly().describe('20 ms frames the writer could not keep up with (written as silence)'),
  error: s.nullable(s.string()).readOnly().describe('Why writing stopped early (what was written is valid), or null'),
});

export const participantAction = s.object({ action: s.enum('mute', 'unmute', 'deaf', 'undeaf', 'kick') });

export const meetingAttributeValue = s.object({ value: attributeChange.shape.value });
export const meetingAttributeChanges = s.array(attributeChange, { minItems: 1, maxItems: 100 });

export const attendeeCall = s.object({
  number: s.string({ minLength: 3, maxLength: 32 }).describe('The attendee\'s phone number (E.164, with or without +)'),
  role: s.optional(roleCode),
  customName: s.optional(text(128)),
});

export const attendeeCallStarted = s.object({
  callId: s.string(),
  number: s.string(),
  meetingNumber: s.integer(),
  role: roleCode,
  state: s.integer().describe('4: being dialed (seed 004 Call state)'),
});

export const meetingAttribute = s.object({ name: s.string(), value: s.string() });

/** A Call's RTP and RTCP figures (read-only; `src/api/callMedia.ts`). */
export const callMedia = s.object({
  codec: s.string(),
  packetsReceived: s.integer(),
  packetsSent: s.integer(),
  bytesReceived: s.integer(),
  bytesSent: s.integer(),
  packetsLost: s.integer().describe('RFC 3550 cumulative loss of the caller\'s stream'),
  fractionLost: s.number().describe('0-1, loss over the interval of the bridge\'s last RTCP report'),
  jitterMs: s.number().describe('RFC 3550 interarrival jitter of the caller\'s stream, ms'),
  rttMs: s.nullable(s.number()).describe('Round trip from RTCP (LSR/DLSR), ms; null until the peer reported on a sender report'),
  framesConcealed: s.integer().describe('20 ms frames filled in for packets that never came in time'),
  rtcpReceived: s.integer(),
  remotePacketsLost: s.integer().describe('The peer\'s RTCP view of the bridge\'s stream'),
  remoteFractionLost: s.number(),
  remoteJitterMs: s.number(),
});

export const call = s.object({
  accessCode: s.string(),
  addressFrom: s.string(),
  addressTo: s.string(),
  bridgeName: s.string(),
  callee: s.string(),
  caller: s.string(),
  codec: s.string(),
  connectionStatus: s.integer(),
  created: s.integer(),
  customName: s.string(),
  duration: s.integer(),
  gainLevel: s.integer(),
  holdMode: s.integer(),
  id: id(),
  joined: s.integer(),
  media: callMedia,
  meetingNumber: s.integer(),
  muteMode: s.integer().describe('0 not muted, 40 muted'),
  nodeName: s.string(),
  presenterMedia: s.integer(),
  qaMode: s.integer(),
  role: roleCode,
  state: s.integer(),
});

export const callUpdate = s.object(
  {
    muteMode: s.optional(s.enum(0, 40).describe('0 unmutes the call, 40 mutes it')),
    holdMode: s.optional(s.enum(0, 40).describe('40 puts the call on hold (music, not heard), 0 takes it off hold')),
    gainLevel: s.optional(
      s.integer({ minimum: GAIN_LEVEL_MIN, maximum: GAIN_LEVEL_MAX }).describe(`Input gain of the caller in steps of ${GAIN_LEVEL_STEP_DB} dB (0 = unity)`),
    ),
    role: s.optional(roleCode),
    customName: s.optional(text(128)),
  },
  { minProperties: 1 },
);

/** A participant's live state, in seed 003's read-only vocabulary. */
export const participant = s.object({
  participant_id: s.integer(),
  call_id: s.string(),
  conference_name: s.string(),
  caller_id_number: s.string(),
  custom_name: s.string(),
  role: roleCode,
  speak: s.boolean(),
  hear: s.boolean(),
  mute: s.boolean(),
  deaf: s.boolean(),
  talking: s.nullable(s.boolean()).describe('null until the media engine reports voice activity'),
  energy_level: s.nullable(s.integer()).describe('null until the media engine reports energy'),
  is_moderator: s.boolean(),
  join_time: s.integer().describe('Unix time (seconds) the participant joined'),
  duration: s.integer().describe('Seconds in the meeting'),
});
