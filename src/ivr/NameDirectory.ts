import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';

/**
 * Where roll call keeps the callers' recorded names: `<dataDir>/names`, one
 * fresh directory per call, removed when the call ends. Names are personal
 * data of a live call only, so whatever a previous run left behind (a
 * crash) is wiped when the directory is opened at start-up.
 */
export class NameDirectory {
  private constructor(
    readonly root: string,
    private readonly logger: Logger,
  ) {}

  /** Opens (creating) `<dataDir>/names` and removes leftovers of earlier runs. */
  static open(dataDir: string, logger: Logger): NameDirectory {
    const root = join(dataDir, 'names');
    mkdirSync(root, { recursive: true });
    const leftovers = readdirSync(root);
    for (const entry of leftovers) rmSync(join(root, entry), { recursive: true, force: true });
    if (leftovers.length > 0) logger.info({ removed: leftovers.length }, 'recorded names of earlier runs removed');
    return new NameDirectory(root, logger);
  }

  /** A new empty directory for one call's files. */
  forCall(): string {
    return mkdtempSync(join(this.root, 'call-'));
  }

  /** Deletes one call's directory; a failure is logged, never thrown (the call is over anyway). */
  remove(directory: string): void {
    try {
      rmSync(directory, { recursive: true, force: true });
    } catch (err) {
      this.logger.warn({ err, directory }, 'recorded name not removed');
    }
  }
}
