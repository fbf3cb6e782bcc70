/**
 * The set-up most end-to-end files share: sipp's caller media and a test
 * server on the file's own ports, made before its tests and removed after.
 */
import { afterAll, beforeAll } from 'vitest';
import { CallerMedia } from './callerMedia.js';
import { startTestServer, type TestServer } from './testServer.js';

export interface ServerWithCallers {
  /** The running server (from beforeAll on). */
  readonly server: TestServer;
  /** Tones and key presses for sipp callers (from beforeAll on). */
  readonly media: CallerMedia;
}

/** Call once at the top level of a test file; read `server` and `media` inside its tests. */
export function useServerWithCallers(...startArgs: Parameters<typeof startTestServer>): ServerWithCallers {
  let server: TestServer | undefined;
  let media: CallerMedia | undefined;
  beforeAll(async () => {
    media = new CallerMedia();
    server = await startTestServer(...startArgs);
  });
  afterAll(async () => {
    await server?.stop();
    media?.remove();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the test server is not started (outside a test, or beforeAll failed)');
    return value;
  };
  return {
    get server() {
      return started(server);
    },
    get media() {
      return started(media);
    },
  };
}
