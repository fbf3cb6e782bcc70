import type { AppConfig } from '../config/Config.js';
import { normalizePhoneNumber } from '../conference/PhoneNumber.js';
import type { ConferenceStore } from './StoreTypes.js';

export class ProvisioningError extends Error {
  override name = 'ProvisioningError';
}

/**
 * Writes the configuration's DID groups, DIDs and meeting rooms into an
 * empty store, once. Later starts leave the store alone so that changes made
 * through the API survive restarts. Returns whether anything was written.
 */
export function provisionFromConfig(store: ConferenceStore, provisioning: AppConfig['provisioning']): boolean {
  if (store.isProvisioned()) return false;
  store.transaction(() => writeProvisioning(store, provisioning));
  return true;
}

function writeProvisioning(store: ConferenceStore, provisioning: AppConfig['provisioning']): void {
  const groupIds = new Map<string, number>();
  for (const group of provisioning.didGroups) {
    const created = store.createDidGroup({ name: group.name, description: group.description });
    groupIds.set(group.name, created.id);
    for (const did of group.dids) {
      const phoneNumber = normalizePhoneNumber(did);
      if (!phoneNumber) throw new ProvisioningError(`DID "${did}" of DID group ${group.name} is not a phone number`);
      store.addDid(created.id, phoneNumber);
    }
  }
  for (const room of provisioning.meetingRooms) {
    const primaryDidGroupId = groupIds.get(room.primaryDidGroup) ?? store.findDidGroupByName(room.primaryDidGroup)?.id;
    if (primaryDidGroupId === undefined) {
      throw new ProvisioningError(`meeting room ${room.meetingNumber} names an unknown DID group "${room.primaryDidGroup}"`);
    }
    store.createMeetingRoom({
      meetingNumber: room.meetingNumber,
      description: room.description,
      primaryDidGroupId,
      keychain: room.keychain,
    });
  }
  store.markProvisioned();
}
