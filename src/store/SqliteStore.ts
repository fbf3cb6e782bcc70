import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Role } from '../conference/Role.js';
import { ROLE_CODES, roleFromCode } from '../conference/Role.js';
import { randomBytes } from 'node:crypto';
import type {
  Attribute,
  AttributeChange,
  ConferenceStore,
  Did,
  DidChanges,
  DidGroup,
  DidGroupChanges,
  DidGroupReference,
  KeyChange,
  KeyMatch,
  MeetingKey,
  MeetingRoom,
  MeetingRoomChanges,
  NewDidGroup,
  NewMeetingRoom,
  NewSubscriber,
  Subscriber,
  SubscriberCallbackChange,
  SubscriberChanges,
  SubscriberRole,
} from './StoreTypes.js';
import { StoreConflictError, StoreReferenceError } from './StoreTypes.js';
import type { NewRecording, RecordingRow, RecordingStore } from './RecordingTypes.js';

/**
 * Each migration runs once, in order, inside a transaction; `user_version`
 * records how far a database file has come.
 */
const MIGRATIONS: string[] = [
  `
  CREATE TABLE did_groups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    call_flow_id INTEGER NOT NULL DEFAULT 3
  );
  CREATE TABLE dids (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    did_group_id INTEGER NOT NULL REFERENCES did_groups(id) ON DELETE CASCADE,
    phone_number TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT ''
  );
  CREATE TABLE meeting_rooms (
    meeting_number INTEGER PRIMARY KEY,
    description TEXT NOT NULL DEFAULT '',
    primary_did_group_id INTEGER NOT NULL REFERENCES did_groups(id),
    created INTEGER NOT NULL
  );
  CREATE TABLE meeting_room_did_groups (
    meeting_number INTEGER NOT NULL REFERENCES meeting_rooms(meeting_number) ON DELETE CASCADE,
    did_group_id INTEGER NOT NULL REFERENCES did_groups(id) ON DELETE CASCADE,
    state INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (meeting_number, did_group_id)
  );
  CREATE TABLE meeting_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_number INTEGER NOT NULL REFERENCES meeting_rooms(meeting_number) ON DELETE CASCADE,
    access_code TEXT NOT NULL,
    role INTEGER NOT NULL CHECK (role IN (1, 2, 3))
  );
  CREATE INDEX meeting_keys_by_code ON meeting_keys(access_code);
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: API subscribers (logins with scrypt hashes), room ownership and
  // call-flow attributes on DID groups, DIDs and meeting rooms.
  `
  CREATE TABLE subscribers (
    sid TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role INTEGER NOT NULL CHECK (role IN (1, 2, 3)),
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    phone_number TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '',
    parent_sid TEXT,
    created INTEGER NOT NULL
  );
  ALTER TABLE meeting_rooms ADD COLUMN subscriber_sid TEXT;
  CREATE TABLE attributes (
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('didGroup', 'did', 'meetingRoom')),
    owner_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (owner_kind, owner_id, name)
  );
  `,
  // 3: a subscriber's event callback (seed 004 callback.url, with the
  // secret its webhooks are signed with) and its DID groups (seed 004
  // didGroupReferences: where a user may create meeting rooms).
  `
  ALTER TABLE subscribers ADD COLUMN callback_id INTEGER;
  ALTER TABLE subscribers ADD COLUMN callback_url TEXT;
  ALTER TABLE subscribers ADD COLUMN callback_secret TEXT;
  CREATE TABLE subscriber_did_groups (
    sid TEXT NOT NULL REFERENCES subscribers(sid) ON DELETE CASCADE,
    did_group_id INTEGER NOT NULL REFERENCES did_groups(id) ON DELETE CASCADE,
    state INTEGER NOT NULL DEFAULT 0 CHECK (state IN (0, 1, 2)),
    PRIMARY KEY (sid, did_group_id)
  );
  `,
  // Meeting recordings (RecordingTypes): a subscriber's go with the subscriber.
  `
  CREATE TABLE recordings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_number INTEGER NOT NULL,
    subscriber_sid TEXT REFERENCES subscribers(sid) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    created INTEGER NOT NULL,
    duration INTEGER NOT NULL,
    size INTEGER NOT NULL,
    frames_dropped INTEGER NOT NULL DEFAULT 0,
    error TEXT
  );
  CREATE INDEX recordings_by_subscriber ON recordings(subscriber_sid);
  `,
];

type OwnerKind = 'didGroup' | 'did' | 'meetingRoom';

const SUBSCRIBER_ROLE_CODES: Readonly<Record<SubscriberRole, number>> = { administrator: 1, operator: 2, user: 3 };

function subscriberRoleFromCode(code: number): SubscriberRole {
  const role = (Object.keys(SUBSCRIBER_ROLE_CODES) as SubscriberRole[]).find((r) => SUBSCRIBER_ROLE_CODES[r] === code);
  if (!role) throw new Error(`subscriber role code ${code} is invalid`);
  return role;
}

interface DidGroupRow {
  id: number;
  name: string;
  description: string;
  call_flow_id: number;
}

interface DidRow {
  id: number;
  did_group_id: number;
  phone_number: string;
  description: string;
}

interface MeetingRoomRow {
  meeting_number: number;
  description: string;
  primary_did_group_id: number;
  subscriber_sid: string | null;
  created: number;
}

interface SubscriberRow {
  sid: string;
  login: string;
  password_hash: string;
  role: number;
  first_name: string;
  last_name: string;
  email: string;
  phone_number: string;
  details: string;
  parent_sid: string | null;
  created: number;
  callback_id: number | null;
  callback_url: string | null;
  callback_secret: string | null;
}

interface KeyRow {
  id: number;
  access_code: string;
  role: number;
}

/** The embedded default store: one SQLite file in the data directory. */
export class SqliteStore implements ConferenceStore, RecordingStore {
  private readonly db: Database.Database;

  /** Opens (creating if needed) `<dataDir>/conference.db`, or an in-memory database for ':memory:'. */
  static open(dataDir: string | ':memory:'): SqliteStore {
    if (dataDir === ':memory:') return new SqliteStore(new Database(':memory:'));
    mkdirSync(dataDir, { recursive: true });
    return new SqliteStore(new Database(join(dataDir, 'conference.db')));
  }

  private constructor(db: Database.Database) {
    this.db = db;
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let next = version; next < MIGRATIONS.length; next++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[next]!);
        this.db.pragma(`user_version = ${next + 1}`);
      })();
    }
  }

  // ---- DID groups ------------------------------------------------------

  createDidGroup(group: NewDidGroup): DidGroup {
    return this.transaction(() => {
      if (this.findDidGroupByName(group.name)) throw new StoreConflictError(`DID group "${group.name}" already exists`);
      const result = this.db
        .prepare('INSERT INTO did_groups (name, description, call_flow_id) VALUES (?, ?, ?)')
        .run(group.name, group.description ?? '', group.callFlowId ?? 3);
      const id = Number(result.lastInsertRowid);
      this.changeAttributes('didGroup', id, group.attributes ?? []);
      return this.getDidGroup(id)!;
    });
  }

  findDidGroupByName(name: string): DidGroup | undefined {
    const row = this.db.prepare('SELECT * FROM did_groups WHERE name = ?').get(name) as DidGroupRow | undefined;
    return row && this.toDidGroup(row);
  }

  getDidGroup(id: number): DidGroup | undefined {
    const row = this.db.prepare('SELECT * FROM did_groups WHERE id = ?').get(id) as DidGroupRow | undefined;
    return row && this.toDidGroup(row);
  }

  listDidGroups(): DidGroup[] {
    return (this.db.prepare('SELECT * FROM did_groups ORDER BY id').all() as DidGroupRow[]).map((row) => this.toDidGroup(row));
  }

  updateDidGroup(id: number, changes: DidGroupChanges): DidGroup | undefined {
    return this.transaction(() => {
      const current = this.getDidGroup(id);
      if (!current) return undefined;
      if (changes.name !== undefined && changes.name !== current.name && this.findDidGroupByName(changes.name)) {
        throw new StoreConflictError(`DID group "${changes.name}" already exists`);
      }
      this.db
        .prepare('UPDATE did_groups SET name = ?, description = ?, call_flow_id = ? WHERE id = ?')
        .run(changes.name ?? current.name, changes.description ?? current.description, changes.callFlowId ?? current.callFlowId, id);
      if (changes.attributes) this.changeAttributes('didGroup', id, changes.attributes);
      return this.getDidGroup(id);
    });
  }

  deleteDidGroup(id: number): boolean {
    return this.transaction(() => {
      if (!this.getDidGroup(id)) return false;
      const dids = (this.db.prepare('SELECT COUNT(*) AS n FROM dids WHERE did_group_id = ?').get(id) as { n: number }).n;
      if (dids > 0) throw new StoreConflictError(`DID group ${id} still holds ${dids} DID(s); move or delete them first`);
      const rooms = this.db
        .prepare(
          `SELECT meeting_number FROM meeting_rooms WHERE primary_did_group_id = ?
           UNION SELECT meeting_number FROM meeting_room_did_groups WHERE did_group_id = ?`,
        )
        .all(id, id) as Array<{ meeting_number: number }>;
      if (rooms.length > 0) {
        throw new StoreConflictError(`DID group ${id} is used by meeting room(s) ${rooms.map((r) => r.meeting_number).join(', ')}`);
      }
      this.db.prepare("DELETE FROM attributes WHERE owner_kind = 'didGroup' AND owner_id = ?").run(id);
      this.db.prepare('DELETE FROM did_groups WHERE id = ?').run(id);
      return true;
    });
  }

  private toDidGroup(row: DidGroupRow): DidGroup {
    return {
      id: row.id,
      name: row.name,
      description: row.description,
      callFlowId: row.call_flow_id,
      attributes: this.attributesOf('didGroup', row.id),
    };
  }

  // ---- DIDs ------------------------------------------------------------

  addDid(didGroupId: number, phoneNumber: string, description = '', attributes: Attribute[] = []): Did {
    return this.transaction(() => {
      if (this.findDid(phoneNumber)) throw new StoreConflictError(`DID ${phoneNumber} already exists`);
      if (!this.getDidGroup(didGroupId)) throw new StoreReferenceError('didGroupId', `DID group ${didGroupId} does not exist`);
      const result = this.db
        .prepare('INSERT INTO dids (did_group_id, phone_number, description) VALUES (?, ?, ?)')
        .run(didGroupId, phoneNumber, description);
      const id = Number(result.lastInsertRowid);
      this.changeAttributes('did', id, attributes);
      return this.getDid(id)!;
    });
  }

  findDid(phoneNumber: string): Did | undefined {
    const row = this.db.prepare('SELECT * FROM dids WHERE phone_number = ?').get(phoneNumber) as DidRow | undefined;
    return row && this.toDid(row);
  }

  getDid(id: number): Did | undefined {
    const row = this.db.prepare('SELECT * FROM dids WHERE id = ?').get(id) as DidRow | undefined;
    return row && this.toDid(row);
  }

  listDids(): Did[] {
    return (this.db.prepare('SELECT * FROM dids ORDER BY id').all() as DidRow[]).map((row) => this.toDid(row));
  }

  updateDid(id: number, changes: DidChanges): Did | undefined {
    return this.transaction(() => {
      const current = this.getDid(id);
      if (!current) return undefined;
      if (changes.phoneNumber !== undefined && changes.phoneNumber !== current.phoneNumber && this.findDid(changes.phoneNumber)) {
        throw new StoreConflictError(`DID ${changes.phoneNumber} already exists`);
      }
      if (changes.didGroupId !== undefined && !this.getDidGroup(changes.didGroupId)) {
        throw new StoreReferenceError('didGroupId', `DID group ${changes.didGroupId} does not exist`);
      }
      this.db
        .prepare('UPDATE dids SET did_group_id = ?, phone_number = ?, description = ? WHERE id = ?')
        .run(changes.didGroupId ?? current.didGroupId, changes.phoneNumber ?? current.phoneNumber, changes.description ?? current.description, id);
      if (changes.attributes) this.changeAttributes('did', id, changes.attributes);
      return this.getDid(id);
    });
  }

  deleteDid(id: number): boolean {
    return this.transaction(() => {
      this.db.prepare("DELETE FROM attributes WHERE owner_kind = 'did' AND owner_id = ?").run(id);
      return this.db.prepare('DELETE FROM dids WHERE id = ?').run(id).changes > 0;
    });
  }

  private toDid(row: DidRow): Did {
    return {
      id: row.id,
      didGroupId: row.did_group_id,
      phoneNumber: row.phone_number,
      description: row.description,
      attributes: this.attributesOf('did', row.id),
    };
  }

  // ---- meeting rooms -----------------------------------------------------

  createMeetingRoom(room: NewMeetingRoom): MeetingRoom {
    return this.transaction(() => {
      if (this.getMeetingRoom(room.meetingNumber)) {
        throw new StoreConflictError(`meeting room ${room.meetingNumber} already exists`);
      }
      if (!this.getDidGroup(room.primaryDidGroupId)) {
        throw new StoreReferenceError('primaryDidGroupId', `DID group ${room.primaryDidGroupId} does not exist`);
      }
      this.db
        .prepare('INSERT INTO meeting_rooms (meeting_number, description, primary_did_group_id, subscriber_sid, created) VALUES (?, ?, ?, ?, ?)')
        .run(room.meetingNumber, room.description ?? '', room.primaryDidGroupId, room.subscriberSid ?? null, Date.now());
      this.writeReferences(room.meetingNumber, room.primaryDidGroupId, room.didGroupReferences ?? []);
      this.writeKeychain(room.meetingNumber, room.keychain);
      this.changeAttributes('meetingRoom', room.meetingNumber, room.attributes ?? []);
      return this.getMeetingRoom(room.meetingNumber)!;
    });
  }

  getMeetingRoom(meetingNumber: number): MeetingRoom | undefined {
    const row = this.db.prepare('SELECT * FROM meeting_rooms WHERE meeting_number = ?').get(meetingNumber) as
      | MeetingRoomRow
      | undefined;
    return row && this.toMeetingRoom(row);
  }

  listMeetingRooms(): MeetingRoom[] {
    return (this.db.prepare('SELECT * FROM meeting_rooms ORDER BY meeting_number').all() as MeetingRoomRow[]).map((row) =>
      this.toMeetingRoom(row),
    );
  }

  updateMeetingRoom(meetingNumber: number, changes: MeetingRoomChanges): MeetingRoom | undefined {
    return this.transaction(() => {
      const current = this.getMeetingRoom(meetingNumber);
      if (!current) return undefined;
      let number = meetingNumber;
      if (changes.meetingNumber !== undefined && changes.meetingNumber !== meetingNumber) {
        number = changes.meetingNumber;
        if (this.getMeetingRoom(number)) throw new StoreConflictError(`meeting room ${number} already exists`);
        // The key moves in every table at once; foreign keys are checked at commit.
        this.db.pragma('defer_foreign_keys = ON');
        this.db.prepare('UPDATE meeting_rooms SET meeting_number = ? WHERE meeting_number = ?').run(number, meetingNumber);
        this.db.prepare('UPDATE meeting_room_did_groups SET meeting_number = ? WHERE meeting_number = ?').run(number, meetingNumber);
        this.db.prepare('UPDATE meeting_keys SET meeting_number = ? WHERE meeting_number = ?').run(number, meetingNumber);
        this.db.prepare("UPDATE attributes SET owner_id = ? WHERE owner_kind = 'meetingRoom' AND owner_id = ?").run(number, meetingNumber);
      }
      const primary = changes.primaryDidGroupId ?? current.primaryDidGroupId;
      if (changes.primaryDidGroupId !== undefined && !this.getDidGroup(primary)) {
        throw new StoreReferenceError('primaryDidGroupId', `DID group ${primary} does not exist`);
      }
      this.db
        .prepare('UPDATE meeting_rooms SET description = ?, primary_did_group_id = ? WHERE meeting_number = ?')
        .run(changes.description ?? current.description, primary, number);
      if (changes.didGroupReferences !== undefined || changes.primaryDidGroupId !== undefined) {
        const references = changes.didGroupReferences ?? current.didGroupReferences;
        this.db.prepare('DELETE FROM meeting_room_did_groups WHERE meeting_number = ?').run(number);
        this.writeReferences(number, primary, references);
      }
      if (changes.keychain !== undefined) this.replaceKeychain(number, changes.keychain);
      if (changes.attributes) this.changeAttributes('meetingRoom', number, changes.attributes);
      this.checkAccessCodes(number);
      return this.getMeetingRoom(number);
    });
  }

  deleteMeetingRoom(meetingNumber: number): boolean {
    return this.transaction(() => {
      this.db.prepare("DELETE FROM attributes WHERE owner_kind = 'meetingRoom' AND owner_id = ?").run(meetingNumber);
      return this.db.prepare('DELETE FROM meeting_rooms WHERE meeting_number = ?').run(meetingNumber).changes > 0;
    });
  }

  addMeetingKey(meetingNumber: number, key: { accessCode: string; role: Role }): MeetingKey {
    return this.transaction(() => {
      const result = this.db
        .prepare('INSERT INTO meeting_keys (meeting_number, access_code, role) VALUES (?, ?, ?)')
        .run(meetingNumber, key.accessCode, ROLE_CODES[key.role]);
      this.checkAccessCodes(meetingNumber);
      return { id: Number(result.lastInsertRowid), accessCode: key.accessCode, role: key.role };
    });
  }

  updateMeetingKey(meetingNumber: number, id: number, changes: { accessCode?: string; role?: Role }): MeetingKey | undefined {
    return this.transaction(() => {
      const row = this.db.prepare('SELECT id, access_code, role FROM meeting_keys WHERE meeting_number = ? AND id = ?').get(meetingNumber, id) as
        | KeyRow
        | undefined;
      if (!row) return undefined;
      const current = toKey(row);
      const next = { id, accessCode: changes.accessCode ?? current.accessCode, role: changes.role ?? current.role };
      this.db.prepare('UPDATE meeting_keys SET access_code = ?, role = ? WHERE id = ?').run(next.accessCode, ROLE_CODES[next.role], id);
      this.checkAccessCodes(meetingNumber);
      return next;
    });
  }

  deleteMeetingKey(meetingNumber: number, id: number): boolean {
    return this.db.prepare('DELETE FROM meeting_keys WHERE meeting_number = ? AND id = ?').run(meetingNumber, id).changes > 0;
  }

  private toMeetingRoom(row: MeetingRoomRow): MeetingRoom {
    const groups = this.db
      .prepare('SELECT did_group_id, state FROM meeting_room_did_groups WHERE meeting_number = ? ORDER BY did_group_id')
      .all(row.meeting_number) as Array<{ did_group_id: number; state: number }>;
    const keys = this.db
      .prepare('SELECT id, access_code, role FROM meeting_keys WHERE meeting_number = ? ORDER BY id')
      .all(row.meeting_number) as KeyRow[];
    return {
      meetingNumber: row.meeting_number,
      description: row.description,
      primaryDidGroupId: row.primary_did_group_id,
      didGroupIds: groups.map((g) => g.did_group_id),
      didGroupReferences: groups.map((g) => ({ didGroupId: g.did_group_id, state: g.state })),
      keychain: keys.map(toKey),
      attributes: this.attributesOf('meetingRoom', row.meeting_number),
      subscriberSid: row.subscriber_sid,
      created: row.created,
    };
  }

  /** The primary group is always referenced (active unless a reference says otherwise). */
  private writeReferences(meetingNumber: number, primary: number, references: DidGroupReference[]): void {
    const all = new Map<number, number>([[primary, 0]]);
    for (const reference of references) all.set(reference.didGroupId, reference.state);
    const insert = this.db.prepare('INSERT INTO meeting_room_did_groups (meeting_number, did_group_id, state) VALUES (?, ?, ?)');
    for (const [didGroupId, state] of all) {
      if (!this.getDidGroup(didGroupId)) throw new StoreReferenceError('didGroupReferences', `DID group ${didGroupId} does not exist`);
      insert.run(meetingNumber, didGroupId, state);
    }
  }

  private writeKeychain(meetingNumber: number, keychain: Array<{ accessCode: string; role: Role }>): void {
    const insertKey = this.db.prepare('INSERT INTO meeting_keys (meeting_number, access_code, role) VALUES (?, ?, ?)');
    for (const key of keychain) insertKey.run(meetingNumber, key.accessCode, ROLE_CODES[key.role]);
    this.checkAccessCodes(meetingNumber);
  }

  private replaceKeychain(meetingNumber: number, keychain: KeyChange[]): void {
    const existing = new Set(
      (this.db.prepare('SELECT id FROM meeting_keys WHERE meeting_number = ?').all(meetingNumber) as Array<{ id: number }>).map((r) => r.id),
    );
    const kept = new Set<number>();
    for (const key of keychain) {
      if (key.id !== undefined && existing.has(key.id) && !kept.has(key.id)) {
        kept.add(key.id);
        this.db.prepare('UPDATE meeting_keys SET access_code = ?, role = ? WHERE id = ?').run(key.accessCode, ROLE_CODES[key.role], key.id);
      }
    }
    for (const id of existing) if (!kept.has(id)) this.db.prepare('DELETE FROM meeting_keys WHERE id = ?').run(id);
    const insertKey = this.db.prepare('INSERT INTO meeting_keys (meeting_number, access_code, role) VALUES (?, ?, ?)');
    for (const key of keychain) {
      if (key.id === undefined || !existing.has(key.id)) insertKey.run(meetingNumber, key.accessCode, ROLE_CODES[key.role]);
    }
  }

  /**
   * An access code dialed on a DID must lead to exactly one room: within the
   * room's keychain and across every room sharing one of its DID groups.
   */
  private checkAccessCodes(meetingNumber: number): void {
    const duplicate = this.db
      .prepare('SELECT access_code FROM meeting_keys WHERE meeting_number = ? GROUP BY access_code HAVING COUNT(*) > 1')
      .get(meetingNumber) as { access_code: string } | undefined;
    if (duplicate) throw new StoreConflictError(`access code ${duplicate.access_code} appears twice in the keychain`);
    const clash = this.db
      .prepare(
        `SELECT mine.access_code AS code, other.meeting_number AS room
           FROM meeting_keys mine
           JOIN meeting_room_did_groups g1 ON g1.meeting_number = mine.meeting_number
           JOIN meeting_room_did_groups g2 ON g2.did_group_id = g1.did_group_id AND g2.meeting_number <> mine.meeting_number
           JOIN meeting_keys other ON other.meeting_number = g2.meeting_number AND other.access_code = mine.access_code
          WHERE mine.meeting_number = ?
          LIMIT 1`,
      )
      .get(meetingNumber) as { code: string; room: number } | undefined;
    if (clash) {
      // Not naming the room: a subscriber must not learn other subscribers' rooms from a clash.
      throw new StoreConflictError(`access code ${clash.code} is already in use on the same DID group`);
    }
  }

  // ---- attributes --------------------------------------------------------

  private attributesOf(kind: OwnerKind, id: number): Attribute[] {
    return this.db
      .prepare('SELECT name, value FROM attributes WHERE owner_kind = ? AND owner_id = ? ORDER BY name')
      .all(kind, id) as Attribute[];
  }

  /** Sets, replaces or (value null) removes attributes by name. */
  private changeAttributes(kind: OwnerKind, id: number, changes: AttributeChange[]): void {
    for (const change of changes) {
      if (change.value === null) {
        this.db.prepare('DELETE FROM attributes WHERE owner_kind = ? AND owner_id = ? AND name = ?').run(kind, id, change.name);
      } else {
        this.db
          .prepare('INSERT OR REPLACE INTO attributes (owner_kind, owner_id, name, value) VALUES (?, ?, ?, ?)')
          .run(kind, id, change.name, change.value);
      }
    }
  }

  // ---- subscribers -------------------------------------------------------

  createSubscriber(subscriber: NewSubscriber): Subscriber {
    return this.transaction(() => {
      if (this.findSubscriberByLogin(subscriber.login)) throw new StoreConflictError(`login "${subscriber.login}" is taken`);
      const sid = randomBytes(24).toString('base64url');
      this.db
        .prepare(
          `INSERT INTO subscribers (sid, login, password_hash, role, first_name, last_name, email, phone_number, details, parent_sid, created)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          sid,
          subscriber.login,
          subscriber.passwordHash,
          SUBSCRIBER_ROLE_CODES[subscriber.role],
          subscriber.firstName ?? '',
          subscriber.lastName ?? '',
          subscriber.email ?? '',
          subscriber.phoneNumber ?? '',
          subscriber.details ?? '',
          subscriber.parentSid ?? null,
          Date.now(),
        );
      if (subscriber.callback !== undefined) this.setCallback(sid, subscriber.callback);
      if (subscriber.didGroupReferences !== undefined) this.setSubscriberDidGroups(sid, subscriber.didGroupReferences);
      return this.getSubscriber(sid)!;
    });
  }

  getSubscriber(sid: string): Subscriber | undefined {
    const row = this.db.prepare('SELECT * FROM subscribers WHERE sid = ?').get(sid) as SubscriberRow | undefined;
    return row && this.toSubscriber(row);
  }

  findSubscriberByLogin(login: string): Subscriber | undefined {
    const row = this.db.prepare('SELECT * FROM subscribers WHERE login = ?').get(login) as SubscriberRow | undefined;
    return row && this.toSubscriber(row);
  }

  listSubscribers(): Subscriber[] {
    return (this.db.prepare('SELECT * FROM subscribers ORDER BY created, sid').all() as SubscriberRow[]).map((row) => this.toSubscriber(row));
  }

  listSubscriberCallbacks(): Array<{ sid: string; role: SubscriberRole; url: string; secret: string }> {
    const rows = this.db
      .prepare('SELECT sid, role, callback_url, callback_secret FROM subscribers WHERE callback_url IS NOT NULL ORDER BY created, sid')
      .all() as Array<{ sid: string; role: number; callback_url: string; callback_secret: string | null }>;
    return rows.map((r) => ({ sid: r.sid, role: subscriberRoleFromCode(r.role), url: r.callback_url, secret: r.callback_secret ?? '' }));
  }

  // ---- Recordings --------------------------------------------------------

  addRecording(recording: NewRecording): RecordingRow {
    const result = this.db
      .prepare(
        `INSERT INTO recordings (meeting_number, subscriber_sid, file_name, created, duration, size, frames_dropped, error)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        recording.meetingNumber,
        recording.subscriberSid,
        recording.fileName,
        recording.created,
        recording.duration,
        recording.size,
        recording.framesDropped,
        recording.error,
      );
    return { id: Number(result.lastInsertRowid), ...recording };
  }

  getRecording(id: number): RecordingRow | undefined {
    const row = this.db.prepare('SELECT * FROM recordings WHERE id = ?').get(id) as RecordingDbRow | undefined;
    return row ? toRecording(row) : undefined;
  }

  listRecordings(sid?: string): RecordingRow[] {
    const rows = (
      sid === undefined
        ? this.db.prepare('SELECT * FROM recordings ORDER BY id').all()
        : this.db.prepare('SELECT * FROM recordings WHERE subscriber_sid = ? ORDER BY id').all(sid)
    ) as RecordingDbRow[];
    return rows.map(toRecording);
  }

  deleteRecording(id: number): boolean {
    return this.db.prepare('DELETE FROM recordings WHERE id = ?').run(id).changes > 0;
  }

  private toSubscriber(row: SubscriberRow): Subscriber {
    const refs = this.db
      .prepare('SELECT did_group_id, state FROM subscriber_did_groups WHERE sid = ? ORDER BY did_group_id')
      .all(row.sid) as Array<{ did_group_id: number; state: number }>;
    return { ...toSubscriber(row), didGroupReferences: refs.map((r) => ({ didGroupId: r.did_group_id, state: r.state })) };
  }

  /** Sets (or with null removes) the subscriber's callback; a new URL keeps the callback's id. */
  private setCallback(sid: string, callback: SubscriberCallbackChange | null): void {
    if (callback === null) {
      this.db.prepare('UPDATE subscribers SET callback_id = NULL, callback_url = NULL, callback_secret = NULL WHERE sid = ?').run(sid);
      return;
    }
    const row = this.db.prepare('SELECT callback_id FROM subscribers WHERE sid = ?').get(sid) as { callback_id: number | null };
    const id = row.callback_id ?? ((this.db.prepare('SELECT MAX(callback_id) AS id FROM subscribers').get() as { id: number | null }).id ?? 0) + 1;
    this.db.prepare('UPDATE subscribers SET callback_id = ?, callback_url = ?, callback_secret = ? WHERE sid = ?').run(id, callback.url, callback.secret, sid);
  }

  private setSubscriberDidGroups(sid: string, refs: DidGroupReference[]): void {
    this.db.prepare('DELETE FROM subscriber_did_groups WHERE sid = ?').run(sid);
    const insert = this.db.prepare('INSERT INTO subscriber_did_groups (sid, did_group_id, state) VALUES (?, ?, ?)');
    for (const ref of refs) {
      if (!this.getDidGroup(ref.didGroupId)) throw new StoreReferenceError('didGroupReferences', `DID group ${ref.didGroupId} does not exist`);
      insert.run(sid, ref.didGroupId, ref.state);
    }
  }

  updateSubscriber(sid: string, changes: SubscriberChanges): Subscriber | undefined {
    return this.transaction(() => {
      const current = this.getSubscriber(sid);
      if (!current) return undefined;
      if (changes.login !== undefined && changes.login !== current.login && this.findSubscriberByLogin(changes.login)) {
        throw new StoreConflictError(`login "${changes.login}" is taken`);
      }
      const { callback, didGroupReferences, ...fields } = changes;
      const next = { ...current, ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) } as Subscriber;
      this.db
        .prepare(
          `UPDATE subscribers SET login = ?, password_hash = ?, role = ?, first_name = ?, last_name = ?, email = ?,
                  phone_number = ?, details = ? WHERE sid = ?`,
        )
        .run(next.login, next.passwordHash, SUBSCRIBER_ROLE_CODES[next.role], next.firstName, next.lastName, next.email, next.phoneNumber, next.details, sid);
      if (callback !== undefined) this.setCallback(sid, callback);
      if (didGroupReferences !== undefined) this.setSubscriberDidGroups(sid, didGroupReferences);
      return this.getSubscriber(sid);
    });
  }

  deleteSubscriber(sid: string): boolean {
    return this.db.prepare('DELETE FROM subscribers WHERE sid = ?').run(sid).changes > 0;
  }

  findKey(didGroupId: number, accessCode: string): KeyMatch | undefined {
    const row = this.db
      .prepare(
        `SELECT k.id, k.access_code, k.role, k.meeting_number
           FROM meeting_keys k
           JOIN meeting_room_did_groups g ON g.meeting_number = k.meeting_number
          WHERE g.did_group_id = ? AND g.state = 0 AND k.access_code = ?`,
      )
      .get(didGroupId, accessCode) as (KeyRow & { meeting_number: number }) | undefined;
    if (!row) return undefined;
    const meetingRoom = this.getMeetingRoom(row.meeting_number);
    return meetingRoom && { meetingRoom, key: toKey(row) };
  }

  isProvisioned(): boolean {
    return this.db.prepare("SELECT 1 FROM meta WHERE key = 'provisioned'").get() !== undefined;
  }

  markProvisioned(): void {
    this.db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('provisioned', ?)").run(new Date().toISOString());
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toSubscriber(row: SubscriberRow): Subscriber {
  return {
    sid: row.sid,
    login: row.login,
    passwordHash: row.password_hash,
    role: subscriberRoleFromCode(row.role),
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    phoneNumber: row.phone_number,
    details: row.details,
    parentSid: row.parent_sid,
    created: row.created,
    callback: row.callback_url === null ? null : { id: row.callback_id ?? 0, url: row.callback_url, secret: row.callback_secret ?? '' },
    didGroupReferences: [],
  };
}

function toKey(row: KeyRow): MeetingKey {
  const role: Role | undefined = roleFromCode(row.role);
  if (!role) throw new Error(`meeting key ${row.id} has an invalid role ${row.role}`);
  return { id: row.id, accessCode: row.access_code, role };
}

interface RecordingDbRow {
  id: number;
  meeting_number: number;
  subscriber_sid: string | null;
  file_name: string;
  created: number;
  duration: number;
  size: number;
  frames_dropped: number;
  error: string | null;
}

function toRecording(row: RecordingDbRow): RecordingRow {
  return {
    id: row.id,
    meetingNumber: row.meeting_number,
    subscriberSid: row.subscriber_sid,
    fileName: row.file_name,
    created: row.created,
    duration: row.duration,
    size: row.size,
    framesDropped: row.frames_dropped,
    error: row.error,
  };
}
