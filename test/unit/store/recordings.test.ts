/**
 * Store side of meeting recordings (migration 4): rows added, read, listed
 * per subscriber and deleted, dropped with their subscriber, a version 3
 * database upgraded in place; and RecordingFiles, which writes under a
 * hidden name and moves the closed file into its owner's directory.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordingFiles } from '../../../src/store/RecordingFiles.js';
import { SqliteStore } from '../../../src/store/SqliteStore.js';
import { FileNameError, SubscriberFiles } from '../../../src/store/SubscriberFiles.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'store-recordings-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const row = (sid: string | null, fileName: string) => ({
  meetingNumber: 1000,
  subscriberSid: sid,
  fileName,
  created: 1_700_000_000_000,
  duration: 5000,
  size: 160_044,
  framesDropped: 0,
  error: null,
});

describe('recording rows', () => {
  it('adds, reads, lists per subscriber and deletes; a subscriber takes their rows along', () => {
    const store = SqliteStore.open(tempDir());
    const rita = store.createSubscriber({ login: 'rita', passwordHash: 'h', role: 'user' });
    const sam = store.createSubscriber({ login: 'sam', passwordHash: 'h', role: 'user' });
    const a = store.addRecording(row(rita.sid, 'rec-1000-a.wav'));
    const b = store.addRecording({ ...row(null, 'rec-1000-b.wav'), error: 'disk full', framesDropped: 3 });
    const c = store.addRecording(row(sam.sid, 'rec-1000-c.wav'));
    expect(store.getRecording(a.id)).toEqual(a);
    expect(store.getRecording(b.id)).toMatchObject({ subscriberSid: null, error: 'disk full', framesDropped: 3 });
    expect(store.listRecordings().map((r) => r.id)).toEqual([a.id, b.id, c.id]);
    expect(store.listRecordings(rita.sid)).toEqual([a]);
    expect(store.deleteRecording(a.id)).toBe(true);
    expect(store.deleteRecording(a.id)).toBe(false);
    expect(store.getRecording(a.id)).toBeUndefined();
    store.deleteSubscriber(sam.sid);
    expect(store.listRecordings().map((r) => r.id)).toEqual([b.id]);
    store.close();
  });

  it('upgrades a version 3 database in place', () => {
    const dataDir = tempDir();
    const first = SqliteStore.open(dataDir);
    const s = first.createSubscriber({ login: 'old', passwordHash: 'h', role: 'administrator' });
    first.close();
    const db = new Database(join(dataDir, 'conference.db'));
    db.exec('DROP TABLE recordings;');
    db.pragma('user_version = 3');
    db.close();
    const upgraded = SqliteStore.open(dataDir);
    expect(upgraded.getSubscriber(s.sid)?.login).toBe('old');
    expect(upgraded.addRecording(row(s.sid, 'x.wav')).id).toBeGreaterThan(0);
    upgraded.close();
  });
});

describe('RecordingFiles', () => {
  it("writes hidden, then moves into the subscriber's files (listed there) or the bridge's directory, never over a file", () => {
    const dataDir = tempDir();
    const subscriberFiles = new SubscriberFiles(join(dataDir, 'files'));
    const files = new RecordingFiles(subscriberFiles, dataDir);
    const temporary = files.temporaryPath('sidA');
    expect(basename(temporary).startsWith('.')).toBe(true);
    writeFileSync(temporary, 'x');
    expect(subscriberFiles.list('sidA')).toEqual([]);
    expect(files.commit('sidA', temporary, 'rec-1000-20261123-130000')).toBe('rec-1000-20261123-130000.wav');
    const second = files.temporaryPath('sidA');
    writeFileSync(second, 'y');
    expect(files.commit('sidA', second, 'rec-1000-20261123-130000')).toBe('rec-1000-20261123-130000-2.wav');
    expect(subscriberFiles.list('sidA').map((f) => f.name)).toEqual(['rec-1000-20261123-130000-2.wav', 'rec-1000-20261123-130000.wav']);
    expect(files.existingPath('sidA', 'rec-1000-20261123-130000.wav')).toBe(join(dataDir, 'files', 'sidA', 'rec-1000-20261123-130000.wav'));

    const bridge = files.temporaryPath(null);
    expect(dirname(bridge)).toBe(RecordingFiles.bridgeDirectory(dataDir));
    writeFileSync(bridge, 'z');
    const name = files.commit(null, bridge, 'rec-1000-20261123-130000');
    expect(files.existingPath(null, name)).toBe(join(dataDir, 'recordings', name));
    files.remove(null, name);
    expect(files.existingPath(null, name)).toBeUndefined();
    expect(readdirSync(join(dataDir, 'recordings'))).toEqual([]);

    // Names and owners are checked: no path escapes its directory.
    expect(() => files.existingPath('sidA', '../conference.db')).toThrow(FileNameError);
    expect(() => files.temporaryPath('../x')).toThrow(FileNameError);
    const failed = files.temporaryPath('sidA');
    writeFileSync(failed, 'w');
    files.discard(failed);
    expect(existsSync(failed)).toBe(false);
  });
});
