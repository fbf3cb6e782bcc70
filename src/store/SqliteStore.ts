import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Role } from '../conference/Role.js';
import { ROLE_CODES, roleFromCode } from '../conference/Role.js';
import type {
  ConferenceStore,
  Did,
  DidGroup,
  KeyMatch,
  MeetingKey,
  MeetingRoom,
  NewDidGroup,
  NewMeetingRoom,
} from './StoreTypes.js';
import { StoreConflictError } from './StoreTypes.js';

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
];

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
  created: number;
}

interface KeyRow {
  id: number;
  access_code: string;
  role: number;
}

/** The embedded default store: one SQLite file in the data directory. */
export class SqliteStore implements ConferenceStore {
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

  createDidGroup(group: NewDidGroup): DidGroup {
    if (this.findDidGroupByName(group.name)) throw new StoreConflictError(`DID group "${group.name}" already exists`);
    const result = this.db
      .prepare('INSERT INTO did_groups (name, description, call_flow_id) VALUES (?, ?, ?)')
      .run(group.name, group.description ?? '', group.callFlowId ?? 3);
    return { id: Number(result.lastInsertRowid), name: group.name, description: group.description ?? '', callFlowId: group.callFlowId ?? 3 };
  }

  findDidGroupByName(name: string): DidGroup | undefined {
    const row = this.db.prepare('SELECT * FROM did_groups WHERE name = ?').get(name) as DidGroupRow | undefined;
    return row && { id: row.id, name: row.name, description: row.description, callFlowId: row.call_flow_id };
  }

  addDid(didGroupId: number, phoneNumber: string, description = ''): Did {
    if (this.findDid(phoneNumber)) throw new StoreConflictError(`DID ${phoneNumber} already exists`);
    const result = this.db
      .prepare('INSERT INTO dids (did_group_id, phone_number, description) VALUES (?, ?, ?)')
      .run(didGroupId, phoneNumber, description);
    return { id: Number(result.lastInsertRowid), didGroupId, phoneNumber, description };
  }

  findDid(phoneNumber: string): Did | undefined {
    const row = this.db.prepare('SELECT * FROM dids WHERE phone_number = ?').get(phoneNumber) as DidRow | undefined;
    return row && { id: row.id, didGroupId: row.did_group_id, phoneNumber: row.phone_number, description: row.description };
  }

  createMeetingRoom(room: NewMeetingRoom): MeetingRoom {
    return this.db.transaction(() => {
      if (this.getMeetingRoom(room.meetingNumber)) {
        throw new StoreConflictError(`meeting room ${room.meetingNumber} already exists`);
      }
      // An access code dialed on a DID must lead to exactly one room.
      for (const key of room.keychain) {
        const clash = this.findKey(room.primaryDidGroupId, key.accessCode);
        if (clash) {
          throw new StoreConflictError(
            `access code ${key.accessCode} already opens meeting room ${clash.meetingRoom.meetingNumber} in the same DID group`,
          );
        }
      }
      const codes = room.keychain.map((key) => key.accessCode);
      if (new Set(codes).size !== codes.length) throw new StoreConflictError('an access code appears twice in the keychain');
      this.db
        .prepare('INSERT INTO meeting_rooms (meeting_number, description, primary_did_group_id, created) VALUES (?, ?, ?, ?)')
        .run(room.meetingNumber, room.description ?? '', room.primaryDidGroupId, Date.now());
      this.db
        .prepare('INSERT INTO meeting_room_did_groups (meeting_number, did_group_id) VALUES (?, ?)')
        .run(room.meetingNumber, room.primaryDidGroupId);
      const insertKey = this.db.prepare('INSERT INTO meeting_keys (meeting_number, access_code, role) VALUES (?, ?, ?)');
      for (const key of room.keychain) insertKey.run(room.meetingNumber, key.accessCode, ROLE_CODES[key.role]);
      return this.getMeetingRoom(room.meetingNumber)!;
    })();
  }

  getMeetingRoom(meetingNumber: number): MeetingRoom | undefined {
    const row = this.db.prepare('SELECT * FROM meeting_rooms WHERE meeting_number = ?').get(meetingNumber) as
      | MeetingRoomRow
      | undefined;
    if (!row) return undefined;
    const groups = this.db
      .prepare('SELECT did_group_id FROM meeting_room_did_groups WHERE meeting_number = ? ORDER BY did_group_id')
      .all(meetingNumber) as Array<{ did_group_id: number }>;
    const keys = this.db
      .prepare('SELECT id, access_code, role FROM meeting_keys WHERE meeting_number = ? ORDER BY id')
      .all(meetingNumber) as KeyRow[];
    return {
      meetingNumber: row.meeting_number,
      description: row.description,
      primaryDidGroupId: row.primary_did_group_id,
      didGroupIds: groups.map((g) => g.did_group_id),
      keychain: keys.map(toKey),
      created: row.created,
    };
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

function toKey(row: KeyRow): MeetingKey {
  const role: Role | undefined = roleFromCode(row.role);
  if (!role) throw new Error(`meeting key ${row.id} has an invalid role ${row.role}`);
  return { id: row.id, accessCode: row.access_code, role };
}
