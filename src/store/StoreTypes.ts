/**
 * The configuration objects of seed 004 (DID groups, DIDs, meeting rooms
 * with their keychains), as the rest of the system sees them. A store
 * implementation (SQLite today, a server database later) provides
 * `ConferenceStore`.
 */
import type { Role } from '../conference/Role.js';

export interface DidGroup {
  id: number;
  name: string;
  description: string;
  callFlowId: number;
}

export interface Did {
  id: number;
  didGroupId: number;
  /** Digits only, E.164 without '+'. */
  phoneNumber: string;
  description: string;
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
  keychain: MeetingKey[];
  created: number;
}

export interface NewDidGroup {
  name: string;
  description?: string;
  callFlowId?: number;
}

export interface NewMeetingRoom {
  meetingNumber: number;
  description?: string;
  primaryDidGroupId: number;
  keychain: Array<{ accessCode: string; role: Role }>;
}

/** What an access code entered on a DID leads to. */
export interface KeyMatch {
  meetingRoom: MeetingRoom;
  key: MeetingKey;
}

export interface ConferenceStore {
  createDidGroup(group: NewDidGroup): DidGroup;
  findDidGroupByName(name: string): DidGroup | undefined;
  addDid(didGroupId: number, phoneNumber: string, description?: string): Did;
  /** `phoneNumber` must already be normalized (see normalizePhoneNumber). */
  findDid(phoneNumber: string): Did | undefined;
  createMeetingRoom(room: NewMeetingRoom): MeetingRoom;
  getMeetingRoom(meetingNumber: number): MeetingRoom | undefined;
  /** The meeting room and key that `accessCode` opens among the rooms reachable from a DID group. */
  findKey(didGroupId: number, accessCode: string): KeyMatch | undefined;
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
