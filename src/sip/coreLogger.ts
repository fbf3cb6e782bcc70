/** Bridges SIP.js's internal logger to pino. */
import { LoggerFactory, Levels } from 'sip.js/lib/core/index.js';
import type { Logger } from '../log.js';

export function createCoreLoggerFactory(logger: Logger): LoggerFactory {
  const factory = new LoggerFactory();
  factory.builtinEnabled = false;
  factory.level = Levels.debug;
  const log = logger.child({ source: 'sip.js' });
  factory.connector = (level: string, category: string, label: string | undefined, content: unknown) => {
    const fields = label ? { category, label } : { category };
    const text = typeof content === 'string' ? content : String(content);
    switch (level) {
      case 'error':
        log.error(fields, text);
        break;
      case 'warn':
        log.warn(fields, text);
        break;
      default:
        log.debug(fields, text);
    }
  };
  return factory;
}
