/**
 * Subscribers' media files (seed 004 File Descriptors), kept on disk under
 * `<dataDir>/files/<sid>/<name>`. Names are checked here as well as in the
 * API, so no caller can reach outside a subscriber's directory. Files land
 * by rename from a temporary file in the same directory: a failed upload
 * leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface FileDescriptor {
  /** Milliseconds of audio. */
  duration: number;
  name: string;
  size: number;
  /** Seed 004's internal URL of the file (not served over HTTP). */
  url: string;
}

/** Letters, digits, `_`, `-`, `.`; not starting with a dot; at most 100 characters; ending in .wav. */
const FILE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,95}\.wav$/;
const SID = /^[A-Za-z0-9_-]{1,64}$/;

/** Why a name is refused, or undefined when it is fine. */
export function fileNameProblem(name: string): string | undefined {
  if (name.includes('/') || name.includes('\\')) return 'must not contain a path (no / or \\)';
  if (name.includes('..')) return 'must not contain ".."';
  if (!FILE_NAME.test(name)) return 'must be 1 to 100 letters, digits, _ - . ending in .wav, not starting with a dot';
  return undefined;
}

export class FileNameError extends Error {
  override name = 'FileNameError';
}

/** The WAV layout found in a file's first bytes, or why it is not a WAV file. */
export function wavInfo(head: Buffer): { ok: true; durationMs: number; sampleRate: number; channels: number } | { ok: false; reason: string } {
  if (head.length < 12 || head.toString('latin1', 0, 4) !== 'RIFF' || head.toString('latin1', 8, 12) !== 'WAVE') {
    return { ok: false, reason: 'is not a WAV file (no RIFF/WAVE header)' };
  }
  let offset = 12;
  let byteRate = 0;
  let sampleRate = 0;
  let channels = 0;
  while (offset + 8 <= head.length) {
    const id = head.toString('latin1', offset, offset + 4);
    const size = head.readUInt32LE(offset + 4);
    if (id === 'fmt ') {
      if (size < 16 || offset + 8 + 16 > head.length) return { ok: false, reason: 'has a truncated fmt chunk' };
      channels = head.readUInt16LE(offset + 10);
      sampleRate = head.readUInt32LE(offset + 12);
      byteRate = head.readUInt32LE(offset + 16);
    } else if (id === 'data') {
      if (byteRate === 0 || channels === 0 || sampleRate === 0) return { ok: false, reason: 'has no valid fmt chunk before its data' };
      return { ok: true, durationMs: Math.round((size * 1000) / byteRate), sampleRate, channels };
    }
    offset += 8 + size + (size % 2);
  }
  return { ok: false, reason: 'has no data chunk in its first 64 KiB' };
}

export class SubscriberFiles {
  constructor(private readonly root: string) {}

  private dir(sid: string): string {
    if (!SID.test(sid)) throw new FileNameError('bad subscriber id');
    return join(this.root, sid);
  }

  private path(sid: string, name: string): string {
    const problem = fileNameProblem(name);
    if (problem) throw new FileNameError(`file name ${problem}`);
    return join(this.dir(sid), name);
  }

  /** Where a named file of the subscriber lives (it may not exist); throws FileNameError on a bad sid or name. */
  pathOf(sid: string, name: string): string {
    return this.path(sid, name);
  }

  list(sid: string): FileDescriptor[] {
    const dir = this.dir(sid);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((name) => fileNameProblem(name) === undefined)
      .sort()
      .map((name) => this.describe(sid, name));
  }

  get(sid: string, name: string): FileDescriptor | undefined {
    return existsSync(this.path(sid, name)) ? this.describe(sid, name) : undefined;
  }

  private describe(sid: string, name: string): FileDescriptor {
    const path = this.path(sid, name);
    const info = wavInfo(readHead(path));
    return { duration: info.ok ? info.durationMs : 0, name, size: statSync(path).size, url: `/storage/subscribers/${sid}/${name}` };
  }

  /** A temporary path in the subscriber's directory for an upload in progress (dot-named: never listed). */
  temporaryPath(sid: string): string {
    const dir = this.dir(sid);
    mkdirSync(dir, { recursive: true });
    return join(dir, `.upload-${randomBytes(8).toString('hex')}`);
  }

  /** Moves a finished upload into place; false when the name is taken (the upload is then removed). */
  commit(sid: string, temporary: string, name: string): boolean {
    const target = this.path(sid, name);
    if (existsSync(target)) {
      rmSync(temporary, { force: true });
      return false;
    }
    renameSync(temporary, target);
    return true;
  }

  /** Deletes all the named files, or none when one is missing (returns the missing names). */
  delete(sid: string, names: string[]): string[] {
    const paths = names.map((name) => this.path(sid, name));
    const missing = names.filter((_, i) => !existsSync(paths[i]!));
    if (missing.length > 0) return missing;
    for (const path of paths) unlinkSync(path);
    return [];
  }

  /** Removes every file of a subscriber (when the subscriber is deleted). */
  deleteAll(sid: string): void {
    rmSync(this.dir(sid), { recursive: true, force: true });
  }
}

export function readHead(path: string, bytes = 64 * 1024): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const read = readSync(fd, buffer, 0, bytes, 0);
    return buffer.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
