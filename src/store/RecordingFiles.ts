/**
 * Where meeting recordings live on disk. A room with a subscriber records
 * into that subscriber's files (`<dataDir>/files/<sid>/`), so the recording
 * is one of the subscriber's seed 004 files as well; a room without one
 * records into `<dataDir>/recordings/`, which only administrators and
 * operators reach (through /recordings). A recording is written under a
 * dot-name (never listed) and renamed to its final name once closed, so a
 * listing never shows a file still being written.
 */
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SubscriberFiles } from './SubscriberFiles.js';

/** The directory name (under the data dir) of recordings without a subscriber. */
const BRIDGE_OWNER = 'recordings';

export class RecordingFiles {
  private readonly bridge: SubscriberFiles;

  constructor(
    private readonly subscriberFiles: SubscriberFiles,
    dataDir: string,
  ) {
    this.bridge = new SubscriberFiles(dataDir);
  }

  private owner(sid: string | null): { files: SubscriberFiles; dir: string } {
    return sid === null ? { files: this.bridge, dir: BRIDGE_OWNER } : { files: this.subscriberFiles, dir: sid };
  }

  /** A fresh dot-named path to write a recording to, in its owner's directory (created if needed). */
  temporaryPath(sid: string | null): string {
    const { files, dir } = this.owner(sid);
    return files.temporaryPath(dir);
  }

  /**
   * Moves a finished recording into place under `baseName` (no extension),
   * adding `-2`, `-3`... when the name is taken; returns the file name used.
   */
  commit(sid: string | null, temporary: string, baseName: string): string {
    const { files, dir } = this.owner(sid);
    for (let n = 1; ; n++) {
      const name = n === 1 ? `${baseName}.wav` : `${baseName}-${n}.wav`;
      const target = files.pathOf(dir, name);
      if (existsSync(target)) continue;
      renameSync(temporary, target);
      return name;
    }
  }

  /** The path of a recording's file, or undefined when the file is gone (deleted as a subscriber file). */
  existingPath(sid: string | null, name: string): string | undefined {
    const { files, dir } = this.owner(sid);
    const path = files.pathOf(dir, name);
    return existsSync(path) ? path : undefined;
  }

  size(path: string): number {
    return statSync(path).size;
  }

  remove(sid: string | null, name: string): void {
    const { files, dir } = this.owner(sid);
    rmSync(files.pathOf(dir, name), { force: true });
  }

  /** Removes a temporary file left by a recording that failed. */
  discard(temporary: string): void {
    rmSync(temporary, { force: true });
  }

  /** The directory of bridge-owned recordings, for tests and docs. */
  static bridgeDirectory(dataDir: string): string {
    return join(dataDir, BRIDGE_OWNER);
  }
}
