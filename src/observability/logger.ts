/**
 * Structured JSON logs (pino), one line per event. Patient data stays out unless LOG_PATIENT_DATA:
 * error messages may quote UIDs or names (a masked GraphQL error, a parser message), so by default
 * an error is logged as its class, code and stack frames only.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Where lines go (default: stdout); tests pass a stream to read them. */
  readonly destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino({ level: options.level, base: { service: 'dicomql' }, timestamp: pino.stdTimeFunctions.isoTime }, options.destination);
}

export interface SerializedError {
  readonly type: string;
  readonly code?: string;
  readonly message?: string;
  readonly stack?: string;
  readonly cause?: SerializedError;
}

/**
 * An error as a log field. Without `patientData` the message is dropped and the stack keeps only
 * its frames (its first line repeats the message).
 */
export function serializeError(err: unknown, patientData: boolean, depth = 0): SerializedError {
  if (!(err instanceof Error)) return { type: typeof err };
  const code = (err as { code?: unknown }).code;
  const frames = err.stack?.split('\n').filter((line) => /^\s+at /.test(line));
  const cause = (err as { cause?: unknown }).cause;
  return {
    type: err.constructor?.name || err.name,
    ...(typeof code === 'string' ? { code } : {}),
    ...(patientData ? { message: err.message } : {}),
    ...(patientData && err.stack ? { stack: err.stack } : frames ? { stack: frames.join('\n') } : {}),
    ...(cause !== undefined && depth < 3 ? { cause: serializeError(cause, patientData, depth + 1) } : {}),
  };
}
