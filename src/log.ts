import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The process-wide root logger. Every module derives a child from it with
 * the fields that identify what it is logging about; call-scoped code must
 * use a child carrying `callId` so that every line of a call can be grepped.
 */
export function createRootLogger(level: string = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });
}

/** A logger that discards everything, for tests and tools. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
