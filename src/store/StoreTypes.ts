/**
 * The configuration objects of seed 004 (DID groups, DIDs, meeting rooms
 * with their keychains), as the rest of the system sees them. A store
 * implementation (SQLite today, a server database later) provides
 * `ConferenceStore`.
 */
import type { Role } from '../conference/Role.js';

/** A call-flow attribute set on an object (seed 004 `attributes`); values are stored as strings. */
export interface Attribute {
  name: string;
  value: string;
}

/** Attribute changes: a null value removes the attribute. */
export type AttributeChange = { name: string; value: string | null };

export interface DidGroup {
  id: number;
  name: string;
  description: string;
  callFlowId: number;
  attributes: Attribute[];
}

export interface Did {
  id: number;
  didGroupId: number;
  /** Digits only, E.164 without '+'. */
  phoneNumber: string;
  description: string;
  attributes: Attribute[];
}

export interface DidGroupReference {
  didGroupId: number;
  /** 0 active, 1 invalidated, 2 disabled (seed 004). Only active references route calls. */
  state: number;
}

export interface MeetingKey {
  id: number;
  accessCode: string;
  role: Role;
}

export interface MeetingRoom {
  meetingNumber: number;
  description: string;
  primaryDidGroupId: number;
  /** DID groups whose numbers reach this room (the primary one included). */
  didGroupIds: number[];
  didGroupReferences: DidGroupReference[];
  keychain: MeetingKey[];
  attributes: Attribute[];
  /** The subscriber who owns the room (null for rooms provisioned from configuration). */
  subscriberSid: string | null;
  created: number;
}

export interface NewDidGroup {
  name: string;
  description?: string;
  callFlowId?: number;
  attributes?: Attribute[];
}

export interface NewMeetingRoom {
  meetingNumber: number;
  description?: string;
  primaryDidGroupId: number;
  keychain: Array<{ accessCode: string; role: Role }>;
  didGroupReferences?: DidGroupReference[];
  attributes?: Attribute[];
  subscriberSid?: string | null;
}

export interface DidGroupChanges {
  name?: string;
  description?: string;
  callFlowId?: number;
  attributes?: AttributeChange[];
}

export interface DidChanges {
  didGroupId?: number;
  phoneNumber?: string;
  description?: string;
  attributes?: AttributeChange[];
}

export interface KeyChange {
  /** Keeps (and updates) the key with this id; without it a new key is made. */
  id?: number;
  accessCode: string;
  role: Role;
}

export interface MeetingRoomChanges {
  meetingNumber?: number;
  description?: string;
  primaryDidGroupId?: number;
  didGroupReferences?: DidGroupReference[];
  /** Replaces the keychain. */
  keychain?: KeyChange[];
  attributes?: AttributeChange[];
}

export type SubscriberRole = 'administrator' | 'operator' | 'user';

export interface Subscriber {
  sid: string;
  login: string;
  /** `scrypt$N$r$p$salt$hash` (see src/api/passwords.ts); never leaves the server. */
  passwordHash: string;
  role: SubscriberRole;
  firstName: string;
  lastName: string;
  email: string;
  phoneNumber: string;
  details: string;
  parentSid: string | null;
  created: number;
  /** Where the subscriber's webhooks go (seed 004 `callback`), with the secret they are signed with. */
  callback: SubscriberCallback | null;
  /** Seed 004 didGroupReferences: the DID groups a user may create meeting rooms on. */
  didGroupReferences: DidGroupReference[];
}

export interface SubscriberCallback {
  id: number;
  url: string;
  /** HMAC-SHA256 key of the webhook signatures; never returned by reads. */
  secret: string;
}

export interface SubscriberCallbackChange {
  url: string;
  secret: string;
}

export interface NewSubscriber {
  login: string;
  passwordHash: string;
  role: SubscriberRole;
  firstName?: string;
  lastName?: string;
  email?: string;
  phoneNumber?: string;
  details?: string;
  parentSid?: string | null;
  /** null removes the callback. */
  callback?: SubscriberCallbackChange | null;
  didGroupReferences?: DidGroupReference[];
}

export type SubscriberChanges = Partial<Omit<NewSubscriber, 'parentSid'>>;

/** What an access code entered on a DID leads to. */
export interface KeyMatch {
  meetingRoom: MeetingRoom;
  key: MeetingKey;
}

export interface ConferenceStore {
  createDidGroup(group: NewDidGroup): DidGroup;
  findDidGroupByName(name: string): DidGroup | undefined;
  addDid(didGroupId: number, phoneNumber: string, description?: string, attributes?: Attribute[]): Did;
  /** `phoneNumber` must already be normalized (see normalizePhoneNumber). */
  findDid(phoneNumber: string): Did | undefined;
  createMeetingRoom(room: NewMeetingRoom): MeetingRoom;
  getMeetingRoom(meetingNumber: number): MeetingRoom | undefined;
  /** The meeting room and key that `accessCode` opens among the rooms reachable from a DID group. */
  findKey(didGroupId: number, accessCode: string): KeyMatch | undefined;
  getDidGroup(id: number): DidGroup | undefined;
  listDidGroups(): DidGroup[];
  updateDidGroup(id: number, changes: DidGroupChanges): DidGroup | undefined;
  /** False when absent; StoreConflictError while DIDs or meeting rooms use the group. */
  deleteDidGroup(id: number): boolean;
  getDid(id: number): Did | undefined;
  listDids(): Did[];
  updateDid(id: number, changes: DidChanges): Did | undefined;
  deleteDid(id: number): boolean;
  listMeetingRooms(): MeetingRoom[];
  updateMeetingRoom(meetingNumber: number, changes: MeetingRoomChanges): MeetingRoom | undefined;
  deleteMeetingRoom(meetingNumber: number): boolean;
  addMeetingKey(meetingNumber: number, key: { accessCode: string; role: Role }): MeetingKey;
  updateMeetingKey(meetingNumber: number, id: number, changes: { accessCode?: string; role?: Role }): MeetingKey | undefined;
  deleteMeetingKey(meetingNumber: number, id: number): boolean;
  createSubscriber(subscriber: NewSubscriber): Subscriber;
  getSubscriber(sid: string): Subscriber | undefined;
  findSubscriberByLogin(login: string): Subscriber | undefined;
  listSubscribers(): Subscriber[];
  updateSubscriber(sid: string, changes: SubscriberChanges): Subscriber | undefined;
  deleteSubscriber(sid: string): boolean;
  /** The subscribers that have a callback, with its secret (one query: read often by the webhooks). */
  listSubscriberCallbacks(): Array<{ sid: string; role: SubscriberRole; url: string; secret: string }>;
  /** Whether configuration was ever provisioned into this store. */
  isProvisioned(): boolean;
  markProvisioned(): void;
  /** Runs `work` atomically: all of its writes land, or none. */
  transaction<T>(work: () => T): T;
  close(): void;
}

export class StoreConflictError extends Error {
  override name = 'StoreConflictError';
}

/** A change names an object that does not exist (a DID group id, say). */
export class StoreReferenceError extends Error {
  override name = 'StoreReferenceError';

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
