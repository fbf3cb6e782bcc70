import { Application } from './app/Application.js';
import { ConfigError, loadConfig } from './config/Config.js';
import { createRootLogger } from './log.js';

/**
 * `npm start`: the server with config/default.yaml (or CONFIG_FILE) and the
 * environment overrides. Start-up failures (a port taken, a bad config) are
 * logged with their reason and exit with status 1.
 */
async function main(): Promise<void> {
  const logger = createRootLogger();
  let app: Application;
  try {
    const config = loadConfig(process.env.CONFIG_FILE || undefined);
    logger.level = config.logLevel;
    app = await Application.start(config, logger);
  } catch (err) {
    logger.fatal({ err: err instanceof ConfigError ? err.message : err }, `start-up failed: ${(err as Error).message}`);
    process.exitCode = 1;
    return;
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    void app.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('uncaughtException', (err) => logger.fatal({ err }, 'uncaught exception'));
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled rejection'));
}

void main();
