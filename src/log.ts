/**
 * Plain lines on stdout, worded as the original tool's user guide shows them, because operators grep for them.
 * `debug` adds the per-message and per-device lines that a large fleet does not want by default.
 */
import type { LogLevel } from './config';

export interface Log {
  info(line: string): void;
  debug(line: string): void;
  error(line: string): void;
}

export function createConsoleLog(level: LogLevel = 'info', write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Log {
  return {
    info: write,
    debug: level === 'debug' ? write : () => undefined,
    error: (line) => process.stderr.write(`${line}\n`),
  };
}

export const silentLog: Log = { info: () => undefined, debug: () => undefined, error: () => undefined };
