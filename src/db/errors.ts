/**
 * Which database errors are worth a retry. A lost connection, a deadlock or a lock wait retries; a missing
 * table, a refused password, a constraint violation or a TLS problem will fail the same way again, so it fails fast.
 */
import { types } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import type { DatabaseTls } from '../config';
import { explainTlsFailure, tlsDetail, tlsFailureOf } from '../domain/tls';
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
  // isNativeError: a TLS error is made by Node's core, in another realm than mysql2's own errors under Jest.
  return (err instanceof Error || types.isNativeError(err)) && typeof (err as SqlError).code === 'string';
}

/**
 * A TLS problem between the worker and the database, as one sentence naming what to set; undefined when `err` is
 * not one. `tls` is the worker's setting when known (`'off'` for OCPP_MYSQL_SSL=off), for sharper advice.
 */
export function databaseTlsProblem(err: unknown, tls?: DatabaseTls | 'off'): string | undefined {
  if (!isSqlError(err)) return undefined;
  const detail = `${err.code}: ${err.message}`;
  switch (err.code) {
    // MySQL with require_secure_transport=ON, to a client without TLS (errno 3159).
    case 'ER_SECURE_TRANSPORT_REQUIRED':
      return `TLS: the database server requires TLS (${detail}): set OCPP_MYSQL_SSL to verify-identity (with OCPP_MYSQL_SSL_CA_PATH), verify-ca or on`;
    case 'HANDSHAKE_NO_SSL_SUPPORT':
      return `TLS: OCPP_MYSQL_SSL asks for TLS but the database server does not offer it (${detail}): enable TLS on the server, or set OCPP_MYSQL_SSL=off`;
    // MariaDB with require_secure_transport=ON refuses a client without TLS as it refuses a wrong password.
    case 'ER_ACCESS_DENIED_ERROR':
      return tls === 'off'
        ? `${detail} (check OCPP_MYSQL_USER and OCPP_MYSQL_PASSWORD; a server that requires TLS (require_secure_transport) refuses a connection without it too: set OCPP_MYSQL_SSL)`
        : undefined;
    case 'HANDSHAKE_SSL_ERROR': {
      const kind = tlsFailureOf(err, true);
      if (kind === undefined) return undefined;
      return explainTlsFailure(kind, tlsDetail(err), {
        peer: 'the database server',
        caVariable: 'OCPP_MYSQL_SSL_CA_PATH',
        certVariable: 'OCPP_MYSQL_SSL_CERT_PATH',
        keyVariable: 'OCPP_MYSQL_SSL_KEY_PATH',
        hostVariable: 'OCPP_MYSQL_HOST',
        hasClientCertificate: tls !== undefined && tls !== 'off' && tls.cert !== undefined,
      });
    }
    default:
      return undefined;
  }
}

export function isTransientDatabaseError(err: unknown): boolean {
  if (!isSqlError(err)) return false;
  // A TLS handshake that failed on certificates fails again: not transient, although mysql2 marks it fatal.
  if (databaseTlsProblem(err) !== undefined) return false;
  // A fatal error is one that closed the connection: a fresh connection may well succeed.
  return TRANSIENT_CODES.has(err.code ?? '') || err.fatal === true;
}

/** Rethrows a database error as Temporal should see it: retryable as is, otherwise non-retryable. */
export function classifyDatabaseError(err: unknown): never {
  if (!isSqlError(err) || isTransientDatabaseError(err)) throw err;
  const tlsProblem = databaseTlsProblem(err);
  if (tlsProblem !== undefined) throw ApplicationFailure.create({ type: ERROR_TYPES.tls, message: tlsProblem, nonRetryable: true });
  throw ApplicationFailure.create({
    type: ERROR_TYPES.database,
    message: `${err.code}: ${err.message}`,
    nonRetryable: true,
  });
}
