/**
 * Store side of subscribers' callbacks and DID group references (migration
 * 3), and the on-disk subscriber files with their name and WAV checks.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../../src/store/SqliteStore.js';
import { StoreReferenceError } from '../../../src/store/StoreTypes.js';
import { FileNameError, fileNameProblem, SubscriberFiles, wavInfo } from '../../../src/store/SubscriberFiles.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'store-extras-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('subscriber callbacks and DID groups in the store', () => {
  it('keeps a callback with its id across URL changes, removes it, and lists callbacks in one read', () => {
    const dataDir = tempDir();
    const store = SqliteStore.open(dataDir);
    const a = store.createSubscriber({ login: 'a', passwordHash: 'h', role: 'user', callback: { url: 'http://127.0.0.1/a', secret: 's'.repeat(16) } });
    const b = store.createSubscriber({ login: 'b', passwordHash: 'h', role: 'operator' });
    expect(a.callback).toMatchObject({ url: 'http://127.0.0.1/a', secret: 's'.repeat(16) });
    expect(b.callback).toBeNull();
    const firstId = a.callback!.id;
    const moved = store.updateSubscriber(a.sid, { callback: { url: 'http://127.0.0.1/a2', secret: 't'.repeat(16) } })!;
    expect(moved.callback).toEqual({ id: firstId, url: 'http://127.0.0.1/a2', secret: 't'.repeat(16) });
    const withB = store.updateSubscriber(b.sid, { callback: { url: 'http://127.0.0.1/b', secret: 'u'.repeat(16) } })!;
    expect(withB.callback!.id).not.toBe(firstId);
    // Listed by creation time, then sid: a and b may share a millisecond, so compare as a set.
    const bySid = (x: { sid: string }, y: { sid: string }) => x.sid.localeCompare(y.sid);
    expect([...store.listSubscriberCallbacks()].sort(bySid)).toEqual(
      [
        { sid: a.sid, role: 'user', url: 'http://127.0.0.1/a2', secret: 't'.repeat(16) },
        { sid: b.sid, role: 'operator', url: 'http://127.0.0.1/b', secret: 'u'.repeat(16) },
      ].sort(bySid),
    );
    // Other changes leave the callback alone; null removes it.
    expect(store.updateSubscriber(a.sid, { firstName: 'Ann' })!.callback!.url).toBe('http://127.0.0.1/a2');
    expect(store.updateSubscriber(a.sid, { callback: null })!.callback).toBeNull();
    expect(store.listSubscriberCallbacks().map((c) => c.sid)).toEqual([b.sid]);
    store.close();
    // Reopened (migrations already applied), the data is still there.
    const reopened = SqliteStore.open(dataDir);
    expect(reopened.getSubscriber(b.sid)!.callback!.url).toBe('http://127.0.0.1/b');
    reopened.close();
  });

  it('assigns DID groups, refuses unknown ones without a partial change, and drops assignments with the group or subscriber', () => {
    const store = SqliteStore.open(':memory:');
    const g1 = store.createDidGroup({ name: 'one' });
    const g2 = store.createDidGroup({ name: 'two' });
    const u = store.createSubscriber({ login: 'u', passwordHash: 'h', role: 'user', didGroupReferences: [{ didGroupId: g1.id, state: 0 }] });
    expect(u.didGroupReferences).toEqual([{ didGroupId: g1.id, state: 0 }]);
    expect(() => store.updateSubscriber(u.sid, { didGroupReferences: [{ didGroupId: g2.id, state: 1 }, { didGroupId: 999, state: 0 }] })).toThrow(StoreReferenceError);
    expect(store.getSubscriber(u.sid)!.didGroupReferences).toEqual([{ didGroupId: g1.id, state: 0 }]);
    store.updateSubscriber(u.sid, { didGroupReferences: [{ didGroupId: g2.id, state: 1 }, { didGroupId: g1.id, state: 0 }] });
    expect(store.getSubscriber(u.sid)!.didGroupReferences).toEqual([
      { didGroupId: g1.id, state: 0 },
      { didGroupId: g2.id, state: 1 },
    ]);
    expect(store.deleteDidGroup(g2.id)).toBe(true);
    expect(store.getSubscriber(u.sid)!.didGroupReferences).toEqual([{ didGroupId: g1.id, state: 0 }]);
    store.close();
  });

  it('upgrades a version 2 database in place', () => {
    const dataDir = tempDir();
    const first = SqliteStore.open(dataDir);
    const s = first.createSubscriber({ login: 'old', passwordHash: 'h', role: 'administrator' });
    first.close();
    // Take the database back to version 2, as an older release left it.
    const db = new Database(join(dataDir, 'conference.db'));
    db.exec('DROP TABLE recordings; DROP TABLE subscriber_did_groups; ALTER TABLE subscribers DROP COLUMN callback_id; ALTER TABLE subscribers DROP COLUMN callback_url; ALTER TABLE subscribers DROP COLUMN callback_secret;');
    db.pragma('user_version = 2');
    db.close();
    const upgraded = SqliteStore.open(dataDir);
    expect(upgraded.getSubscriber(s.sid)).toMatchObject({ login: 'old', callback: null, didGroupReferences: [] });
    upgraded.close();
  });
});

describe('SubscriberFiles', () => {
  const wavHeader = (dataBytes: number, byteRate = 16000): Buffer => {
    const h = Buffer.alloc(44);
    h.write('RIFF', 0, 'latin1');
    h.writeUInt32LE(36 + dataBytes, 4);
    h.write('WAVE', 8, 'latin1');
    h.write('fmt ', 12, 'latin1');
    h.writeUInt32LE(16, 16);
    h.writeUInt16LE(1, 20);
    h.writeUInt16LE(1, 22);
    h.writeUInt32LE(8000, 24);
    h.writeUInt32LE(byteRate, 28);
    h.writeUInt16LE(2, 32);
    h.writeUInt16LE(16, 34);
    h.write('data', 36, 'latin1');
    h.writeUInt32LE(dataBytes, 40);
    return h;
  };

  it('refuses names that are paths or hidden', () => {
    for (const bad of ['../x.wav', 'a/b.wav', 'a\\b.wav', '.x.wav', 'x..wav', 'x.mp3', '', 'x'.repeat(120) + '.wav', 'nul\u0000.wav']) {
      expect(fileNameProblem(bad), bad).toBeDefined();
    }
    for (const good of ['a.wav', 'Hold_music-2.wav', '0.wav']) expect(fileNameProblem(good), good).toBeUndefined();
    const files = new SubscriberFiles(tempDir());
    expect(() => files.get('sid', '../conference.wav')).toThrow(FileNameError);
    expect(() => files.list('../other')).toThrow(FileNameError);
  });

  it('reads WAV duration and refuses what is not WAV', () => {
    expect(wavInfo(Buffer.concat([wavHeader(16000), Buffer.alloc(16000)]))).toMatchObject({ ok: true, durationMs: 1000, sampleRate: 8000, channels: 1 });
    expect(wavInfo(Buffer.from('ID3\u0003 an mp3'))).toMatchObject({ ok: false });
    expect(wavInfo(wavHeader(100, 0))).toMatchObject({ ok: false });
    expect(wavInfo(wavHeader(100).subarray(0, 30))).toMatchObject({ ok: false });
  });

  it('commits by rename, never over an existing file, and deletes all or none', () => {
    const root = tempDir();
    const files = new SubscriberFiles(root);
    const t1 = files.temporaryPath('sid1');
    writeFileSync(t1, Buffer.concat([wavHeader(8000), Buffer.alloc(8000)]));
    expect(files.commit('sid1', t1, 'a.wav')).toBe(true);
    const t2 = files.temporaryPath('sid1');
    writeFileSync(t2, 'other');
    expect(files.commit('sid1', t2, 'a.wav')).toBe(false);
    expect(existsSync(t2)).toBe(false);
    expect(files.list('sid1')).toEqual([{ name: 'a.wav', size: 8044, duration: 500, url: '/storage/subscribers/sid1/a.wav' }]);
    expect(files.delete('sid1', ['a.wav', 'b.wav'])).toEqual(['b.wav']);
    expect(files.list('sid1')).toHaveLength(1);
    expect(files.delete('sid1', ['a.wav'])).toEqual([]);
    expect(readdirSync(join(root, 'sid1'))).toEqual([]);
    files.deleteAll('sid1');
    expect(existsSync(join(root, 'sid1'))).toBe(false);
  });
});
