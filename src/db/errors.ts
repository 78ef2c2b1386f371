/**
 * Which database errors are worth a retry. A lost connection, a deadlock or a lock wait retries; a missing
 * table, a refused password or a constraint violation will fail the same way again, so it fails fast.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../shared';

const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_LOCK_DEADLOCK',
  'ER_LOCK_WAIT_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_QUERY_INTERRUPTED',
  'ER_CONNECTION_KILLED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
]);

interface SqlError {
  code?: string;
  errno?: number;
  fatal?: boolean;
  message: string;
}

function isSqlError(err: unknown): err is SqlError {
  return err instanceof Error && typeof (err as SqlError).code === 'string';
}

export function isTransientDatabaseError(err: unknown): boolean {
  if (!isSqlError(err)) return false;
  // A fatal error is one that closed the connection: a fresh connection may well succeed.
  return TRANSIENT_CODES.has(err.code ?? '') || err.fatal === true;
}

/** Rethrows a database error as Temporal should see it: retryable as is, otherwise non-retryable. */
export function classifyDatabaseError(err: unknown): never {
  if (!isSqlError(err) || isTransientDatabaseError(err)) throw err;
  throw ApplicationFailure.create({
    type: ERROR_TYPES.database,
    message: `${err.code}: ${err.message}`,
    nonRetryable: true,
  });
}
