import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Application } from '../../src/app/Application.js';
import { loadConfig, type AppConfig } from '../../src/config/Config.js';
import { createRootLogger } from '../../src/log.js';

export interface TestServer {
  app: Application;
  config: AppConfig;
  stop(): Promise<void>;
}

/**
 * Starts the real server in-process on loopback with the embedded default
 * configuration, its own ports and a throw-away data directory.
 */
export async function startTestServer(
  ports: { sip: number; http: number; rtpMin: number; rtpMax: number },
  tweak?: (config: AppConfig) => void,
  /** Settings Application reads from the environment (ADMIN_LOGIN, ADMIN_PASSWORD); none by default. */
  env: NodeJS.ProcessEnv = {},
  /** Reuse this data directory (to restart on the same store); it is then left in place by stop(). */
  existingDataDir?: string,
): Promise<TestServer> {
  const dataDir = existingDataDir ?? mkdtempSync(join(tmpdir(), 'bridge-data-'));
  const config = loadConfig(undefined, {
    SIP_PORT: String(ports.sip),
    HTTP_PORT: String(ports.http),
    RTP_PORT_MIN: String(ports.rtpMin),
    RTP_PORT_MAX: String(ports.rtpMax),
    DATA_DIR: dataDir,
    PUBLIC_ADDRESS: '127.0.0.1',
  });
  config.sip.bindAddress = '127.0.0.1';
  config.http.bindAddress = '127.0.0.1';
  config.rtp.bindAddress = '127.0.0.1';
  // Webhook receivers in tests listen on loopback, which callbacks may not reach by default.
  config.webhooks.allowedNetworks = ['127.0.0.1/32'];
  tweak?.(config);
  const logger = createRootLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  let app: Application;
  try {
    app = await Application.start(config, logger, env);
  } catch (err) {
    // A server that fails to start (e.g. a port in use) leaves no directory behind.
    if (!existingDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    app,
    config,
    async stop() {
      await app.close();
      if (!existingDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
