import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/Config.js';
import { provisionFromConfig, ProvisioningError } from '../../../src/store/provision.js';
import { SqliteStore } from '../../../src/store/SqliteStore.js';
import { StoreConflictError } from '../../../src/store/StoreTypes.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'store-test-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SqliteStore with the default provisioning', () => {
  it('provisions the demo DID, room and keychain once, and keeps them across reopen', () => {
    const dataDir = tempDir();
    const config = loadConfig(undefined, {});
    const store = SqliteStore.open(dataDir);
    expect(provisionFromConfig(store, config.provisioning)).toBe(true);
    expect(provisionFromConfig(store, config.provisioning)).toBe(false);
    store.close();

    const reopened = SqliteStore.open(dataDir);
    const did = reopened.findDid('15550100');
    expect(did).toBeDefined();
    const room = reopened.getMeetingRoom(1000)!;
    expect(room.keychain.map((k) => [k.accessCode, k.role])).toEqual([
      ['1111', 'host'],
      ['2222', 'participant'],
      ['3333', 'listener'],
    ]);
    const match = reopened.findKey(did!.didGroupId, '3333');
    expect(match?.meetingRoom.meetingNumber).toBe(1000);
    expect(match?.key.role).toBe('listener');
    expect(reopened.findKey(did!.didGroupId, '9999')).toBeUndefined();
    expect(reopened.findKey(did!.didGroupId + 1, '1111')).toBeUndefined();
    reopened.close();
  });

  it('refuses an access code that would open two rooms of one DID group', () => {
    const store = SqliteStore.open(':memory:');
    const group = store.createDidGroup({ name: 'g' });
    store.createMeetingRoom({ meetingNumber: 1, primaryDidGroupId: group.id, keychain: [{ accessCode: '11', role: 'host' }] });
    expect(() =>
      store.createMeetingRoom({ meetingNumber: 2, primaryDidGroupId: group.id, keychain: [{ accessCode: '11', role: 'participant' }] }),
    ).toThrow(StoreConflictError);
    expect(store.getMeetingRoom(2)).toBeUndefined();
    expect(() => store.createMeetingRoom({ meetingNumber: 1, primaryDidGroupId: group.id, keychain: [] })).toThrow(StoreConflictError);
    expect(() => store.addDid(group.id, '15550100')).not.toThrow();
    expect(() => store.addDid(group.id, '15550100')).toThrow(StoreConflictError);
    store.close();
  });

  it('writes nothing when provisioning is invalid', () => {
    const store = SqliteStore.open(':memory:');
    expect(() =>
      provisionFromConfig(store, {
        didGroups: [{ name: 'a', description: '', dids: ['15550100'] }],
        meetingRooms: [{ meetingNumber: 5, description: '', primaryDidGroup: 'missing', keychain: [] }],
      }),
    ).toThrow(ProvisioningError);
    expect(store.isProvisioned()).toBe(false);
    expect(store.findDid('15550100')).toBeUndefined();
    store.close();
  });
});
