import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/SqliteStore.js';
import { StoreConflictError, StoreReferenceError } from '../../../src/store/StoreTypes.js';

describe('SqliteStore for the control API', () => {
  it('keeps subscribers with unique logins', () => {
    const store = SqliteStore.open(':memory:');
    const admin = store.createSubscriber({ login: 'admin', passwordHash: 'h', role: 'administrator' });
    expect(store.findSubscriberByLogin('admin')?.sid).toBe(admin.sid);
    expect(() => store.createSubscriber({ login: 'admin', passwordHash: 'x', role: 'user' })).toThrow(StoreConflictError);
    expect(store.updateSubscriber(admin.sid, { firstName: 'Ada' })?.firstName).toBe('Ada');
    expect(store.deleteSubscriber(admin.sid)).toBe(true);
    store.close();
  });

  it('updates rooms: keychain replacement keeps ids, renumbering moves keys and attributes, conflicts roll back', () => {
    const store = SqliteStore.open(':memory:');
    const g = store.createDidGroup({ name: 'g' });
    store.addDid(g.id, '15550100');
    const room = store.createMeetingRoom({
      meetingNumber: 1,
      primaryDidGroupId: g.id,
      keychain: [{ accessCode: '11', role: 'host' }, { accessCode: '22', role: 'participant' }],
      attributes: [{ name: 'call_maxduration', value: '120' }],
    });
    store.createMeetingRoom({ meetingNumber: 2, primaryDidGroupId: g.id, keychain: [{ accessCode: '33', role: 'host' }] });
    const hostKey = room.keychain[0]!;
    const updated = store.updateMeetingRoom(1, { meetingNumber: 5, keychain: [{ id: hostKey.id, accessCode: '44', role: 'host' }] })!;
    expect(updated.meetingNumber).toBe(5);
    expect(updated.keychain).toEqual([{ id: hostKey.id, accessCode: '44', role: 'host' }]);
    expect(updated.attributes).toEqual([{ name: 'call_maxduration', value: '120' }]);
    expect(store.getMeetingRoom(1)).toBeUndefined();
    expect(store.findKey(g.id, '44')?.meetingRoom.meetingNumber).toBe(5);
    // The same code as room 2 on the same DID group: refused, nothing changed.
    expect(() => store.updateMeetingRoom(5, { description: 'x', keychain: [{ accessCode: '33', role: 'host' }] })).toThrow(StoreConflictError);
    expect(store.getMeetingRoom(5)!.description).toBe('');
    expect(() => store.addMeetingKey(5, { accessCode: '33', role: 'listener' })).toThrow(StoreConflictError);
    expect(() => store.updateMeetingRoom(5, { primaryDidGroupId: 99 })).toThrow(StoreReferenceError);
    expect(() => store.deleteDidGroup(g.id)).toThrow(StoreConflictError);
    store.close();
  });
});
