/**
 * Rooms written straight into a data directory's store before the server
 * starts on it, for end-to-end files that need their own DIDs, access codes
 * and attributes instead of the default provisioning.
 */
import type { Role } from '../../src/conference/Role.js';
import { SqliteStore } from '../../src/store/SqliteStore.js';

export interface ProvisionedRoom {
  did: string;
  meetingNumber: number;
  /** The keychain: an access code for each role that has one. */
  codes: Partial<Record<Role, string>>;
  groupAttributes?: Record<string, string> | undefined;
  didAttributes?: Record<string, string> | undefined;
  roomAttributes?: Record<string, string> | undefined;
}

const attributes = (values: Record<string, string> = {}) => Object.entries(values).map(([name, value]) => ({ name, value }));

/**
 * One DID group with one DID, and one meeting room, for each entry (so the
 * rooms' callers never meet); the store is marked provisioned so that
 * start-up adds no defaults.
 */
export function provisionRooms(dataDir: string, rooms: ProvisionedRoom[]): void {
  const store = SqliteStore.open(dataDir);
  for (const r of rooms) {
    const group = store.createDidGroup({ name: `g${r.meetingNumber}`, attributes: attributes(r.groupAttributes) });
    store.addDid(group.id, r.did, '', attributes(r.didAttributes));
    store.createMeetingRoom({
      meetingNumber: r.meetingNumber,
      primaryDidGroupId: group.id,
      keychain: (Object.entries(r.codes) as Array<[Role, string]>).map(([role, accessCode]) => ({ accessCode, role })),
      attributes: attributes(r.roomAttributes),
    });
  }
  store.markProvisioned();
  store.close();
}
