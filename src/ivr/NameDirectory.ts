import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';

/**
 * How long a call's directory waits for the media engine to close the
 * files in it before it is removed anyway (a recording the engine never
 * reports done); closing a file takes milliseconds.
 */
const FILES_CLOSED_TIMEOUT_MS = 5000;

/**
 * Where roll call keeps the callers' recorded names: `<dataDir>/names`, one
 * fresh directory per call, removed when the call ends, once the media
 * engine has closed the recordings in it. Names are personal data of a live
 * call only, so whatever a previous run left behind (a crash) is wiped when
 * the directory is opened at start-up, and whatever is left at shutdown
 * (after the engine closed) is wiped by `close()`.
 */
export class NameDirectory {
  /** Directories of ended calls waiting for their files to be closed, with their deadline timers. */
  private readonly pending = new Map<string, NodeJS.Timeout>();

  private constructor(
    readonly root: string,
    private readonly logger: Logger,
    private readonly filesClosedTimeoutMs: number,
  ) {}

  /** Opens (creating) `<dataDir>/names` and removes leftovers of earlier runs. */
  static open(dataDir: string, logger: Logger, options: { filesClosedTimeoutMs?: number } = {}): NameDirectory {
    const root = join(dataDir, 'names');
    mkdirSync(root, { recursive: true });
    const leftovers = readdirSync(root);
    for (const entry of leftovers) rmSync(join(root, entry), { recursive: true, force: true });
    if (leftovers.length > 0) logger.info({ removed: leftovers.length }, 'recorded names of earlier runs removed');
    return new NameDirectory(root, logger, options.filesClosedTimeoutMs ?? FILES_CLOSED_TIMEOUT_MS);
  }

  /** A new empty directory for one call's files. */
  forCall(): string {
    return mkdtempSync(join(this.root, 'call-'));
  }

  /**
   * Deletes one call's directory; a failure is logged, never thrown (the
   * call is over anyway). With `filesClosed` (NameRecorder.filesClosed) it
   * waits until the engine has closed the recordings in it, so no file is
   * pulled from under an open recorder, or for the timeout at most.
   */
  remove(directory: string, filesClosed?: Promise<void>): void {
    if (!filesClosed) {
      this.removeNow(directory);
      return;
    }
    if (this.pending.has(directory)) return;
    const deadline = setTimeout(() => {
      if (!this.pending.delete(directory)) return;
      this.logger.warn({ directory }, 'recorded name files not reported closed in time; removing them anyway');
      this.removeNow(directory);
    }, this.filesClosedTimeoutMs);
    this.pending.set(directory, deadline);
    void filesClosed.then(() => {
      const timer = this.pending.get(directory);
      if (timer === undefined) return;
      clearTimeout(timer);
      this.pending.delete(directory);
      this.removeNow(directory);
    });
  }

  /**
   * At shutdown, once the media engine is closed (every recorder file with
   * it): removes the directories still waiting and anything else left,
   * since no call outlives the engine.
   */
  close(): void {
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    let entries: string[];
    try {
      entries = readdirSync(this.root);
    } catch (err) {
      this.logger.warn({ err, directory: this.root }, 'names directory not read at shutdown');
      return;
    }
    for (const entry of entries) this.removeNow(join(this.root, entry));
  }

  private removeNow(directory: string): void {
    try {
      rmSync(directory, { recursive: true, force: true });
    } catch (err) {
      this.logger.warn({ err, directory }, 'recorded name not removed');
    }
  }
}
