/**
 * Configuration resources of seed 004: call flows (read only), DID groups,
 * DIDs, meeting rooms with their keychains, and subscribers. Every change
 * lands in the store, which the call flow reads on each call, so it applies
 * to the next caller without a restart.
 */
import type { CallbackUrlPolicy } from '../../events/CallbackUrlPolicy.js';
import { roleFromCode, ROLE_CODES, type Role } from '../../conference/Role.js';
import { normalizePhoneNumber } from '../../conference/PhoneNumber.js';
import { randomBytes } from 'node:crypto';
import type { AttributeChange, ConferenceStore, Did, DidGroup, MeetingRoom, Subscriber, SubscriberCallbackChange, SubscriberRole } from '../../store/StoreTypes.js';
import { ATTRIBUTE_TEMPLATES } from '../attributeCatalog.js';
import { conflict, ApiError, detail, forbidden, notFound, unprocessable } from '../errors.js';
import { listBody, selectFields } from '../listing.js';
import { hashPassword } from '../passwords.js';
import type { Principal, Router, RouteContext, SubscriberRole as ApiRole } from '../router.js';
import type { ObjectSchema } from '../schema.js';
import * as S from '../schemas.js';

export interface ConfigRouteDeps {
  store: ConferenceStore;
  maxCodeLength: number;
  /** Whether a meeting room has a live meeting (renumbering or deleting it then would split callers). */
  hasLiveMeeting: (meetingNumber: number) => boolean;
  /** Called after a subscriber is deleted (its files go too). */
  subscriberDeleted?: (sid: string) => void;
  /** Refuses callback URLs at internal addresses (literal ones here; names again at send time). */
  callbackPolicy: Pick<CallbackUrlPolicy, 'refusalOfLiteral'>;
}

const ALL: ApiRole[] = ['administrator', 'operator', 'user'];
const STAFF: ApiRole[] = ['administrator', 'operator'];
const ADMIN: ApiRole[] = ['administrator'];

const SUBSCRIBER_ROLES: SubscriberRole[] = ['administrator', 'operator', 'user'];
const subscriberRoleCode = (role: SubscriberRole): 1 | 2 | 3 => (SUBSCRIBER_ROLES.indexOf(role) + 1) as 1 | 2 | 3;
const subscriberRoleFrom = (code: number): SubscriberRole => SUBSCRIBER_ROLES[code - 1]!;

// ---- representations ---------------------------------------------------------

export function callFlows(): Array<{ id: number; name: string; path: string; attributeTemplates: Array<Record<string, unknown>> }> {
  const templates = (mask: number) =>
    ATTRIBUTE_TEMPLATES.filter((t) => (t.group & mask) !== 0).map((t) => ({
      description: t.description,
      enumValues: '',
      group: t.group,
      name: t.name,
      type: t.type,
      value: '',
    }));
  return [
    { id: 1, name: 'SPECTEL', path: 'callflows/SPECTEL', attributeTemplates: templates(7) },
    { id: 3, name: 'CONF', path: 'callflows/CONF', attributeTemplates: templates(7) },
  ];
}

function countryCode(phoneNumber: string): string | null {
  if (phoneNumber.startsWith('1')) return 'US';
  const prefixes: Record<string, string> = { '44': 'GB', '33': 'FR', '49': 'DE', '39': 'IT', '34': 'ES', '353': 'IE', '61': 'AU' };
  for (const [prefix, code] of Object.entries(prefixes).sort((a, b) => b[0].length - a[0].length)) {
    if (phoneNumber.startsWith(prefix)) return code;
  }
  return null;
}

function attributesOut(attributes: Array<{ name: string; value: string }>): Array<{ name: string; value: string; description?: string; group?: number }> {
  return attributes.map((a) => {
    const template = ATTRIBUTE_TEMPLATES.find((t) => t.name === a.name);
    return template ? { description: template.description, group: template.group, name: a.name, value: a.value } : { name: a.name, value: a.value };
  });
}

export function didOut(did: Did) {
  return {
    attributes: attributesOut(did.attributes),
    countryCode: countryCode(did.phoneNumber),
    description: did.description,
    didGroupId: did.didGroupId,
    id: did.id,
    phoneNumber: did.phoneNumber,
    state: -1,
  };
}

function didGroupOut(group: DidGroup, dids: Did[]) {
  return {
    attributes: attributesOut(group.attributes),
    callFlowId: group.callFlowId,
    description: group.description,
    dids: dids.filter((d) => d.didGroupId === group.id).map(didOut),
    id: group.id,
    name: group.name,
    state: -1,
    subscriberSid: null,
  };
}

function keyOut(key: { id: number; accessCode: string; role: Role }) {
  return { accessCode: key.accessCode, id: key.id, role: ROLE_CODES[key.role] };
}

export function meetingRoomOut(room: MeetingRoom) {
  return {
    attributes: attributesOut(room.attributes),
    created: room.created,
    description: room.description,
    didGroupReferences: room.didGroupReferences,
    keychain: room.keychain.map(keyOut),
    meetingNumber: room.meetingNumber,
    primaryDidGroupId: room.primaryDidGroupId,
    subscriberSid: room.subscriberSid,
  };
}

function subscriberOut(subscriber: Subscriber, revealSecret = false) {
  const callback = subscriber.callback;
  return {
    ...(callback ? { callback: revealSecret ? { id: callback.id, url: callback.url, secret: callback.secret } : { id: callback.id, url: callback.url } } : {}),
    created: subscriber.created,
    details: subscriber.details,
    didGroupReferences: subscriber.didGroupReferences,
    email: subscriber.email,
    externalId: -1,
    firstName: subscriber.firstName,
    lastName: subscriber.lastName,
    login: subscriber.login,
    parentSid: subscriber.parentSid,
    phoneNumber: subscriber.phoneNumber,
    role: subscriberRoleCode(subscriber.role),
    sid: subscriber.sid,
  };
}

// ---- input helpers ------------------------------------------------------------

interface CallbackInput {
  callback?: { url: string; secret?: string } | null;
  eventCallbackUrl?: string | null;
}

/**
 * The callback change a subscriber body asks for (seed 004 `callback` or its
 * `eventCallbackUrl` shortcut): undefined for none, null to remove it. A
 * URL without a secret keeps the current secret or gets a new one, which
 * `generated` says must be shown once in the answer.
 */
function callbackChange(
  body: CallbackInput,
  current: Subscriber | undefined,
  policy: Pick<CallbackUrlPolicy, 'refusalOfLiteral'>,
): { change: SubscriberCallbackChange | null | undefined; generated: boolean } {
  if (body.callback !== undefined && body.eventCallbackUrl !== undefined) {
    throw unprocessable('eventCallbackUrl', 'give either callback or eventCallbackUrl, not both');
  }
  if (body.callback === null || body.eventCallbackUrl === null) return { change: null, generated: false };
  const url = body.callback?.url ?? body.eventCallbackUrl;
  if (url === undefined) return { change: undefined, generated: false };
  const field = body.callback ? 'callback.url' : 'eventCallbackUrl';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw unprocessable(field, 'must be an absolute http or https URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw unprocessable(field, `must be an http or https URL, not ${parsed.protocol}`);
  if (parsed.username || parsed.password) throw unprocessable(field, 'must not carry credentials; the posts are signed instead');
  const refusal = policy.refusalOfLiteral(parsed);
  if (refusal) throw unprocessable(field, `must not point at ${refusal}`);
  const secret = body.callback?.secret ?? current?.callback?.secret;
  if (secret) return { change: { url: parsed.toString(), secret }, generated: false };
  return { change: { url: parsed.toString(), secret: randomBytes(32).toString('base64url') }, generated: true };
}

function attributeChanges(changes: Array<{ name: string; value: string | number | boolean | null }> | undefined, field = 'attributes'): AttributeChange[] | undefined {
  if (changes === undefined) return undefined;
  const unknown = S.unknownAttributes(changes);
  if (unknown.length > 0) {
    throw new ApiError(
      422,
      'object validation error',
      changes.flatMap((c, i) => (unknown.includes(c.name) ? [detail(`${field}.${i}.name`, `unknown attribute ${JSON.stringify(c.name)}`)] : [])),
    );
  }
  return changes.map((c) => ({ name: c.name, value: c.value === null ? null : String(c.value) }));
}

/** Attributes of a resource being created: as attributeChanges, without the null (delete) entries. */
function newAttributes(changes: Parameters<typeof attributeChanges>[0]): Array<{ name: string; value: string }> | undefined {
  return attributeChanges(changes)?.filter((a): a is { name: string; value: string } => a.value !== null);
}

function normalizedNumber(value: string): string {
  const number = normalizePhoneNumber(value);
  if (!number) throw unprocessable('phoneNumber', 'must be a phone number in E.164 form');
  return number;
}

function role(code: number): Role {
  return roleFromCode(code)!;
}

/** Users reach only their own rooms; a room they may not see is reported as absent. */
function roomFor(store: ConferenceStore, principal: Principal, meetingNumber: number): MeetingRoom {
  const room = store.getMeetingRoom(meetingNumber);
  if (!room || !canSeeRoom(principal, room)) throw notFound('meeting room');
  return room;
}

/**
 * A user creates and moves rooms only onto the DID groups an administrator
 * assigned to them (active didGroupReferences): 403 naming the field.
 */
function checkOwnDidGroups(store: ConferenceStore, principal: Principal, ids: Array<[string, number]>): void {
  if (principal.role !== 'user') return;
  const mine = new Set((store.getSubscriber(principal.sid)?.didGroupReferences ?? []).filter((r) => r.state === 0).map((r) => r.didGroupId));
  const outside = ids.filter(([, id]) => !mine.has(id));
  if (outside.length > 0) {
    throw new ApiError(403, 'permission denied', outside.map(([field, id]) => detail(field, `DID group ${id} is not assigned to you`)));
  }
}

export function canSeeRoom(principal: Principal, room: MeetingRoom): boolean {
  return principal.role !== 'user' || room.subscriberSid === principal.sid;
}

function randomMeetingNumber(store: ConferenceStore): number {
  for (let i = 0; i < 100; i++) {
    const candidate = 100_000 + Math.floor(Math.random() * 900_000);
    if (!store.getMeetingRoom(candidate)) return candidate;
  }
  throw new ApiError(409, 'conflict', [detail('meetingNumber', 'no free meeting number found; give one explicitly')]);
}

function checkCodeLength(keys: Array<{ accessCode?: string }>, maxCodeLength: number, field: string): void {
  keys.forEach((key, i) => {
    if (key.accessCode !== undefined && key.accessCode.length > maxCodeLength) {
      throw unprocessable(field.replace('{i}', String(i)), `is longer than callers may type (${maxCodeLength} digits)`);
    }
  });
}

const DELETED = { status: 204, description: 'Deleted' };

const item = <T extends object>(value: T, ctx: RouteContext<unknown>) => ({ status: 200, body: selectFields(value, ctx.fields) });

// ---- routes --------------------------------------------------------------------

export function addConfigRoutes(router: Router, deps: ConfigRouteDeps): void {
  const { store } = deps;
  const asItems = (schema: unknown) => schema as ObjectSchema<never>;
  // Its callers would stay in a meeting nobody can reach any more.
  const refuseIfLive = (meetingNumber: number, what: string): void => {
    if (deps.hasLiveMeeting(meetingNumber)) {
      throw conflict(`meeting room ${meetingNumber} has a live meeting; end it before ${what} the room`, 'meetingNumber');
    }
  };

  // Call flows
  router.add({
    method: 'GET', path: '/callFlows', tag: 'Call Flows', summary: 'Get call flows', roles: ALL,
    query: 'list', itemSchema: asItems(S.callFlow),
    response: { status: 200, description: 'A list of Call Flow objects', schema: S.callFlow, list: 'callFlows' },
    handler: (ctx) => ({ status: 200, body: listBody('callFlows', callFlows(), ctx.list) }),
  });
  router.add({
    method: 'GET', path: '/callFlows/{id}', tag: 'Call Flows', summary: 'Get a call flow by ID', roles: ALL,
    integerParams: ['id'], query: 'item', itemSchema: asItems(S.callFlow),
    response: { status: 200, description: 'The Call Flow object', schema: S.callFlow },
    handler: (ctx) => {
      const flow = callFlows().find((f) => f.id === ctx.ids.id);
      if (!flow) throw notFound('call flow');
      return item(flow, ctx);
    },
  });

  // DID groups
  router.add({
    method: 'GET', path: '/didGroups', tag: 'DID Groups', summary: 'Get DID groups', roles: ALL,
    query: 'list', itemSchema: asItems(S.didGroup),
    response: { status: 200, description: 'A list of DID Group objects', schema: S.didGroup, list: 'didGroups' },
    handler: (ctx) => {
      const dids = store.listDids();
      return { status: 200, body: listBody('didGroups', store.listDidGroups().map((g) => didGroupOut(g, dids)), ctx.list) };
    },
  });
  router.add({
    method: 'POST', path: '/didGroups', tag: 'DID Groups', summary: 'Create a DID group', roles: STAFF,
    body: S.didGroupCreate,
    response: { status: 200, description: 'The created DID Group object', schema: S.didGroup },
    handler: (ctx) => {
      const { name, description, callFlowId, attributes } = ctx.body;
      const attrs = newAttributes(attributes);
      const group = store.createDidGroup({ name, description, callFlowId, attributes: attrs });
      return { status: 200, body: didGroupOut(group, []) };
    },
  });
  router.add({
    method: 'GET', path: '/didGroups/{id}', tag: 'DID Groups', summary: 'Get a DID group by ID', roles: ALL,
    integerParams: ['id'], query: 'item', itemSchema: asItems(S.didGroup),
    response: { status: 200, description: 'The DID Group object', schema: S.didGroup },
    handler: (ctx) => {
      const group = store.getDidGroup(ctx.ids.id!);
      if (!group) throw notFound('DID group');
      return item(didGroupOut(group, store.listDids()), ctx);
    },
  });
  router.add({
    method: 'PUT', path: '/didGroups/{id}', tag: 'DID Groups', summary: 'Update a DID group', roles: STAFF,
    integerParams: ['id'], body: S.didGroupUpdate,
    response: { status: 200, description: 'The updated DID Group object', schema: S.didGroup },
    handler: (ctx) => {
      const { attributes, ...rest } = ctx.body;
      const group = store.updateDidGroup(ctx.ids.id!, { ...rest, attributes: attributeChanges(attributes) });
      if (!group) throw notFound('DID group');
      return { status: 200, body: didGroupOut(group, store.listDids()) };
    },
  });
  router.add({
    method: 'DELETE', path: '/didGroups/{id}', tag: 'DID Groups', summary: 'Delete a DID group', roles: STAFF,
    integerParams: ['id'],
    response: DELETED,
    handler: (ctx) => {
      if (!store.deleteDidGroup(ctx.ids.id!)) throw notFound('DID group');
      return { status: 204 };
    },
  });

  // DIDs
  router.add({
    method: 'GET', path: '/dids', tag: 'DIDs', summary: 'Get DIDs', roles: ALL,
    query: 'list', itemSchema: asItems(S.did),
    response: { status: 200, description: 'A list of DID objects', schema: S.did, list: 'dids' },
    handler: (ctx) => ({ status: 200, body: listBody('dids', store.listDids().map(didOut), ctx.list) }),
  });
  router.add({
    method: 'POST', path: '/dids', tag: 'DIDs', summary: 'Create a DID', roles: STAFF,
    body: S.didCreate,
    response: { status: 200, description: 'The created DID object', schema: S.did },
    handler: (ctx) => {
      const { didGroupId, phoneNumber, description, attributes } = ctx.body;
      const attrs = newAttributes(attributes);
      const did = store.addDid(didGroupId, normalizedNumber(phoneNumber), description, attrs);
      return { status: 200, body: didOut(did) };
    },
  });
  router.add({
    method: 'GET', path: '/dids/{id}', tag: 'DIDs', summary: 'Get a DID by ID', roles: ALL,
    integerParams: ['id'], query: 'item', itemSchema: asItems(S.did),
    response: { status: 200, description: 'The DID object', schema: S.did },
    handler: (ctx) => {
      const did = store.getDid(ctx.ids.id!);
      if (!did) throw notFound('DID');
      return item(didOut(did), ctx);
    },
  });
  router.add({
    method: 'PUT', path: '/dids/{id}', tag: 'DIDs', summary: 'Update a DID', roles: STAFF,
    integerParams: ['id'], body: S.didUpdate,
    response: { status: 200, description: 'The updated DID object', schema: S.did },
    handler: (ctx) => {
      const { attributes, phoneNumber, ...rest } = ctx.body;
      const did = store.updateDid(ctx.ids.id!, {
        ...rest,
        phoneNumber: phoneNumber === undefined ? undefined : normalizedNumber(phoneNumber),
        attributes: attributeChanges(attributes),
      });
      if (!did) throw notFound('DID');
      return { status: 200, body: didOut(did) };
    },
  });
  router.add({
    method: 'DELETE', path: '/dids/{id}', tag: 'DIDs', summary: 'Delete a DID', roles: STAFF,
    integerParams: ['id'],
    response: DELETED,
    handler: (ctx) => {
      if (!store.deleteDid(ctx.ids.id!)) throw notFound('DID');
      return { status: 204 };
    },
  });

  // Meeting rooms
  router.add({
    method: 'GET', path: '/meetingRooms', tag: 'Meeting Rooms', summary: 'Get meeting rooms', roles: ALL,
    query: 'list', itemSchema: asItems(S.meetingRoom),
    response: { status: 200, description: 'A list of Meeting Room objects', schema: S.meetingRoom, list: 'meetingRooms' },
    handler: (ctx) => {
      const rooms = store.listMeetingRooms().filter((r) => canSeeRoom(ctx.principal, r));
      return { status: 200, body: listBody('meetingRooms', rooms.map(meetingRoomOut), ctx.list) };
    },
  });
  router.add({
    method: 'POST', path: '/meetingRooms', tag: 'Meeting Rooms', summary: 'Create a meeting room', roles: ALL,
    body: S.meetingRoomCreate,
    response: { status: 201, description: 'The created Meeting Room object', schema: S.meetingRoom },
    handler: (ctx) => {
      const body = ctx.body;
      checkCodeLength(body.keychain ?? [], deps.maxCodeLength, 'keychain.{i}.accessCode');
      checkOwnDidGroups(store, ctx.principal, [
        ['primaryDidGroupId', body.primaryDidGroupId],
        ...(body.didGroupReferences ?? []).map((r, i): [string, number] => [`didGroupReferences.${i}.didGroupId`, r.didGroupId]),
      ]);
      const attrs = newAttributes(body.attributes);
      const room = store.createMeetingRoom({
        meetingNumber: body.meetingNumber ?? randomMeetingNumber(store),
        description: body.description,
        primaryDidGroupId: body.primaryDidGroupId,
        didGroupReferences: body.didGroupReferences,
        keychain: (body.keychain ?? []).map((k) => ({ accessCode: k.accessCode, role: role(k.role) })),
        attributes: attrs,
        // /subscribers/{sid}/meetingRooms creates the room for that subscriber (checked by the route that delegates here).
        subscriberSid: ctx.params.sid ?? ctx.principal.sid,
      });
      return { status: 201, body: meetingRoomOut(room) };
    },
  });
  router.add({
    method: 'GET', path: '/meetingRooms/{meetingNumber}', tag: 'Meeting Rooms', summary: 'Get a meeting room by meetingNumber', roles: ALL,
    integerParams: ['meetingNumber'], query: 'item', itemSchema: asItems(S.meetingRoom),
    response: { status: 200, description: 'The Meeting Room object', schema: S.meetingRoom },
    handler: (ctx) => item(meetingRoomOut(roomFor(store, ctx.principal, ctx.ids.meetingNumber!)), ctx),
  });
  router.add({
    method: 'PUT', path: '/meetingRooms/{meetingNumber}', tag: 'Meeting Rooms', summary: 'Update a meeting room', roles: ALL,
    integerParams: ['meetingNumber'], body: S.meetingRoomUpdate,
    response: { status: 200, description: 'The updated Meeting Room object', schema: S.meetingRoom },
    handler: (ctx) => {
      roomFor(store, ctx.principal, ctx.ids.meetingNumber!);
      const { keychain, attributes, ...rest } = ctx.body;
      if (rest.meetingNumber !== undefined && rest.meetingNumber !== ctx.ids.meetingNumber) refuseIfLive(ctx.ids.meetingNumber!, 'renumbering');
      if (keychain) checkCodeLength(keychain, deps.maxCodeLength, 'keychain.{i}.accessCode');
      checkOwnDidGroups(store, ctx.principal, [
        ...(rest.primaryDidGroupId === undefined ? [] : [['primaryDidGroupId', rest.primaryDidGroupId] as [string, number]]),
        ...(rest.didGroupReferences ?? []).map((r, i): [string, number] => [`didGroupReferences.${i}.didGroupId`, r.didGroupId]),
      ]);
      const room = store.updateMeetingRoom(ctx.ids.meetingNumber!, {
        ...rest,
        keychain: keychain?.map((k) => ({ id: k.id, accessCode: k.accessCode, role: role(k.role) })),
        attributes: attributeChanges(attributes),
      });
      if (!room) throw notFound('meeting room');
      return { status: 200, body: meetingRoomOut(room) };
    },
  });
  router.add({
    method: 'DELETE', path: '/meetingRooms/{meetingNumber}', tag: 'Meeting Rooms', summary: 'Delete a meeting room', roles: ALL,
    integerParams: ['meetingNumber'],
    response: DELETED,
    handler: (ctx) => {
      roomFor(store, ctx.principal, ctx.ids.meetingNumber!);
      refuseIfLive(ctx.ids.meetingNumber!, 'deleting');
      store.deleteMeetingRoom(ctx.ids.meetingNumber!);
      return { status: 204 };
    },
  });

  // Keychain
  router.add({
    method: 'GET', path: '/meetingRooms/{meetingNumber}/keychain', tag: 'Meeting Rooms', summary: 'Get meeting keys', roles: ALL,
    integerParams: ['meetingNumber'], query: 'list', itemSchema: asItems(S.meetingKey),
    response: { status: 200, description: 'A list of Meeting Key objects (a plain array, as in seed 004)', schema: S.meetingKey },
    handler: (ctx) => {
      const room = roomFor(store, ctx.principal, ctx.ids.meetingNumber!);
      const body = listBody('keys', room.keychain.map(keyOut), ctx.list);
      return { status: 200, body: body.keys };
    },
  });
  router.add({
    method: 'POST', path: '/meetingRooms/{meetingNumber}/keychain', tag: 'Meeting Rooms', summary: 'Create a meeting key', roles: ALL,
    integerParams: ['meetingNumber'], body: S.meetingKeyCreate,
    response: { status: 200, description: 'The created Meeting Key object', schema: S.meetingKey },
    handler: (ctx) => {
      const room = roomFor(store, ctx.principal, ctx.ids.meetingNumber!);
      checkCodeLength([ctx.body], deps.maxCodeLength, 'accessCode');
      const key = store.addMeetingKey(room.meetingNumber, { accessCode: ctx.body.accessCode, role: role(ctx.body.role) });
      return { status: 200, body: { ...keyOut(key), meetingRoomId: room.meetingNumber } };
    },
  });
  router.add({
    method: 'GET', path: '/meetingRooms/{meetingNumber}/keychain/{meetingKeyId}', tag: 'Meeting Rooms', summary: 'Get a meeting key by ID', roles: ALL,
    integerParams: ['meetingNumber', 'meetingKeyId'], query: 'item', itemSchema: asItems(S.meetingKey),
    response: { status: 200, description: 'The Meeting Key object', schema: S.meetingKey },
    handler: (ctx) => {
      const room = roomFor(store, ctx.principal, ctx.ids.meetingNumber!);
      const key = room.keychain.find((k) => k.id === ctx.ids.meetingKeyId);
      if (!key) throw notFound('meeting key');
      return item(keyOut(key), ctx);
    },
  });
  router.add({
    method: 'PUT', path: '/meetingRooms/{meetingNumber}/keychain/{meetingKeyId}', tag: 'Meeting Rooms', summary: 'Update a meeting key', roles: ALL,
    integerParams: ['meetingNumber', 'meetingKeyId'], body: S.meetingKeyUpdate,
    response: { status: 200, description: 'The updated Meeting Key object', schema: S.meetingKey },
    handler: (ctx) => {
      const room = roomFor(store, ctx.principal, ctx.ids.meetingNumber!);
      checkCodeLength([ctx.body], deps.maxCodeLength, 'accessCode');
      const key = store.updateMeetingKey(room.meetingNumber, ctx.ids.meetingKeyId!, {
        accessCode: ctx.body.accessCode,
        role: ctx.body.role === undefined ? undefined : role(ctx.body.role),
      });
      if (!key) throw notFound('meeting key');
      return { status: 200, body: { ...keyOut(key), meetingRoomId: room.meetingNumber } };
    },
  });
  router.add({
    method: 'DELETE', path: '/meetingRooms/{meetingNumber}/keychain/{meetingKeyId}', tag: 'Meeting Rooms', summary: 'Delete a meeting key', roles: ALL,
    integerParams: ['meetingNumber', 'meetingKeyId'],
    response: DELETED,
    handler: (ctx) => {
      const room = roomFor(store, ctx.principal, ctx.ids.meetingNumber!);
      if (!store.deleteMeetingKey(room.meetingNumber, ctx.ids.meetingKeyId!)) throw notFound('meeting key');
      return { status: 204 };
    },
  });

  // Subscribers
  router.add({
    method: 'GET', path: '/subscribers/whoami', tag: 'Subscribers', summary: 'Get the current subscriber', roles: ALL,
    query: 'item', itemSchema: asItems(S.subscriber),
    response: { status: 200, description: 'The Subscriber object', schema: S.subscriber },
    handler: (ctx) => item(subscriberOut(store.getSubscriber(ctx.principal.sid)!), ctx),
  });
  router.add({
    method: 'GET', path: '/subscribers', tag: 'Subscribers', summary: 'Get subscribers', roles: STAFF,
    query: 'list', itemSchema: asItems(S.subscriber),
    response: { status: 200, description: 'A list of Subscriber objects', schema: S.subscriber, list: 'subscribers' },
    handler: (ctx) => ({ status: 200, body: listBody('subscribers', store.listSubscribers().map((sub) => subscriberOut(sub)), ctx.list) }),
  });
  router.add({
    method: 'POST', path: '/subscribers', tag: 'Subscribers', summary: 'Create a subscriber', roles: ADMIN,
    body: S.subscriberCreate,
    response: { status: 200, description: 'The created Subscriber object', schema: S.subscriber },
    handler: async (ctx) => {
      const { password, role: code, callback: _callback, eventCallbackUrl: _url, ...rest } = ctx.body;
      const callback = callbackChange(ctx.body, undefined, deps.callbackPolicy);
      const created = store.createSubscriber({
        ...rest,
        login: ctx.body.login,
        callback: callback.change ?? undefined,
        passwordHash: await hashPassword(password),
        role: subscriberRoleFrom(code ?? 3),
        parentSid: ctx.principal.sid,
      });
      return { status: 200, body: subscriberOut(created, callback.generated) };
    },
  });
  const subscriberFor = (principal: Principal, sid: string): Subscriber => {
    const found = store.getSubscriber(sid);
    if (principal.role === 'user' && sid !== principal.sid) throw notFound('subscriber');
    if (!found) throw notFound('subscriber');
    return found;
  };
  router.add({
    method: 'GET', path: '/subscribers/{sid}', tag: 'Subscribers', summary: 'Get a subscriber by SID', roles: ALL,
    query: 'item', itemSchema: asItems(S.subscriber),
    response: { status: 200, description: 'The Subscriber object', schema: S.subscriber },
    handler: (ctx) => item(subscriberOut(subscriberFor(ctx.principal, ctx.params.sid!)), ctx),
  });
  router.add({
    method: 'PUT', path: '/subscribers/{sid}', tag: 'Subscribers', summary: 'Update a subscriber', roles: ALL,
    body: S.subscriberUpdate,
    response: { status: 200, description: 'The updated Subscriber object', schema: S.subscriber },
    handler: async (ctx) => {
      const target = subscriberFor(ctx.principal, ctx.params.sid!);
      const { password, role: code, callback: _callback, eventCallbackUrl: _url, ...rest } = ctx.body;
      if (ctx.principal.role !== 'administrator' && target.sid !== ctx.principal.sid) throw forbidden('only administrators change other subscribers');
      if (rest.didGroupReferences !== undefined && ctx.principal.role !== 'administrator') {
        throw forbidden('only administrators assign DID groups');
      }
      const callback = callbackChange(ctx.body, target, deps.callbackPolicy);
      if (code !== undefined && ctx.principal.role !== 'administrator' && subscriberRoleFrom(code) !== target.role) {
        throw forbidden('only administrators change roles');
      }
      if (code !== undefined && target.sid === ctx.principal.sid && subscriberRoleFrom(code) !== 'administrator' && target.role === 'administrator') {
        throw new ApiError(409, 'conflict', [detail('role', 'an administrator cannot demote itself')]);
      }
      const updated = store.updateSubscriber(target.sid, {
        ...rest,
        role: code === undefined ? undefined : subscriberRoleFrom(code),
        passwordHash: password === undefined ? undefined : await hashPassword(password),
        callback: callback.change,
      });
      return { status: 200, body: subscriberOut(updated!, callback.generated) };
    },
  });
  router.add({
    method: 'DELETE', path: '/subscribers/{sid}', tag: 'Subscribers', summary: 'Delete a subscriber', roles: ADMIN,
    response: DELETED,
    handler: (ctx) => {
      if (ctx.params.sid === ctx.principal.sid) throw new ApiError(409, 'conflict', [detail('sid', 'a subscriber cannot delete itself')]);
      if (!store.deleteSubscriber(ctx.params.sid!)) throw notFound('subscriber');
      deps.subscriberDeleted?.(ctx.params.sid!);
      return { status: 204 };
    },
  });
}
