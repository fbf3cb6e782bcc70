/**
 * The set-up every API end-to-end file shares: the real server on its own
 * ports with a first administrator, an admin HTTP client, and the caller
 * media files for sipp. `apiHarness` registers its own beforeAll/afterAll
 * (a file's own beforeAll, registered after it, runs after the server is
 * up); the fields are set once the server runs.
 */
import { afterAll, beforeAll } from 'vitest';
import type { AppConfig } from '../../src/config/Config.js';
import { apiClient, openFeed, type FeedConnection } from '../e2e/apiClient.js';
import { CallerMedia } from './callerMedia.js';
import { startTestServer, type TestServer } from './testServer.js';

export type Credentials = [string, string];
export type ApiCall = ReturnType<typeof apiClient>;

export interface ApiHarnessOptions {
  ports: { sip: number; http: number; rtpMin: number; rtpMax: number };
  /** ADMIN_PASSWORD of the first administrator (login `admin`). */
  adminPassword: string;
  tweak?: (config: AppConfig) => void;
}

export interface ApiHarness {
  readonly admin: Credentials;
  server: TestServer;
  /** The HTTP client with the administrator's credentials. */
  api: ApiCall;
  media: CallerMedia;
  /** A client with other credentials. */
  client(auth: Credentials): ApiCall;
  /** Opens a WebSocket event feed below the server root (administrator by default). */
  feed(path: string, auth?: Credentials | null): Promise<FeedConnection>;
}

export function apiHarness(options: ApiHarnessOptions): ApiHarness {
  const admin: Credentials = ['admin', options.adminPassword];
  const harness = {
    admin,
    client: (auth: Credentials) => apiClient(options.ports.http, auth),
    feed: (path: string, auth: Credentials | null = admin) => openFeed(options.ports.http, path, auth),
  } as ApiHarness;
  beforeAll(async () => {
    harness.media = new CallerMedia();
    harness.server = await startTestServer(options.ports, options.tweak, { ADMIN_PASSWORD: options.adminPassword });
    harness.api = apiClient(options.ports.http, admin);
  });
  afterAll(async () => {
    await harness.server?.stop();
    harness.media?.remove();
  });
  return harness;
}
