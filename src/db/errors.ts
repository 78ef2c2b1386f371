/**
 * Which errors are worth a retry. Only a database error that a later attempt may well not meet retries: a lost
 * connection, a deadlock, a lock wait, too many connections, a server temporary file lost from its tmpdir, a server
 * that is read-only during a failover or shutting down. Anything else — a missing table, a refused password, a constraint violation, a TLS problem, and every error that is not
 * from the database at all (a defect, ids that would pass 2^53, a missing run record) — would fail the same way
 * again, so it fails the activity at once with a message that says what to fix.
 */
import { types } from 'node:util';
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import type { DatabaseTls } from '../config';
import { ConnectionSettingError, socketProblem } from '../domain/connection-error';
import { explainTlsFailure, tlsDetail, tlsFailureOf } from '../domain/tls';
import { ERROR_TYPES, TRANSIENT_DATABASE_ERROR } from '../shared';

/** Transient server errors by errno (MySQL and MariaDB share them), with the reason shown in the retry line. */
const TRANSIENT_ERRNOS = new Map<number, string>([
  [1213, 'deadlock'], // ER_LOCK_DEADLOCK
  [1205, 'lock wait timeout'], // ER_LOCK_WAIT_TIMEOUT
  [2006, 'server gone away'], // CR_SERVER_GONE_ERROR
  [2013, 'lost connection'], // CR_SERVER_LOST
  [1040, 'too many connections'], // ER_CON_COUNT_ERROR
  [1290, 'server read-only (failover?)'], // ER_OPTION_PREVENTS_STATEMENT (--read-only)
  [1792, 'read-only transaction (failover?)'], // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
  [1836, 'server in read-only mode (failover?)'], // ER_READ_ONLY_MODE
  [1053, 'server shutting down'], // ER_SERVER_SHUTDOWN
  [1927, 'connection killed'], // ER_CONNECTION_KILLED (MariaDB, e.g. at shutdown)
  [4031, 'disconnected by the server (idle)'], // ER_CLIENT_INTERACTION_TIMEOUT (MySQL 8)
  // A query's on-disk temporary table, removed from its tmpdir by something else, could not be deleted: another
  // MariaDB starting with the same tmpdir (/tmp by default) deletes every `#sql*` file there. The next attempt makes a
  // new one; a tmpdir that stays broken fails the last attempt.
  [6, "server temporary file error (check the server's tmpdir)"], // EE_DELETE
]);

/** The same by code, and mysql2's and Node's own codes for a connection that could not be made or was lost. */
const TRANSIENT_CODES = new Map<string, string>([
  ['ER_LOCK_DEADLOCK', 'deadlock'],
  ['ER_LOCK_WAIT_TIMEOUT', 'lock wait timeout'],
  ['CR_SERVER_GONE_ERROR', 'server gone away'],
  ['CR_SERVER_LOST', 'lost connection'],
  ['ER_CON_COUNT_ERROR', 'too many connections'],
  ['ER_OPTION_PREVENTS_STATEMENT', 'server read-only (failover?)'],
  ['ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', 'read-only transaction (failover?)'],
  ['ER_READ_ONLY_MODE', 'server in read-only mode (failover?)'],
  ['ER_SERVER_SHUTDOWN', 'server shutting down'],
  ['ER_CONNECTION_KILLED', 'connection killed'],
  ['ER_CLIENT_INTERACTION_TIMEOUT', 'disconnected by the server (idle)'],
  ['EE_DELETE', "server temporary file error (check the server's tmpdir)"],
  ['PROTOCOL_CONNECTION_LOST', 'lost connection'],
  ['PROTOCOL_SEQUENCE_TIMEOUT', 'connection timeout'],
  ['ECONNREFUSED', 'connection refused'],
  ['ECONNRESET', 'connection reset'],
  ['ETIMEDOUT', 'connection timeout'],
  ['EPIPE', 'connection closed'],
  ['EHOSTUNREACH', 'host unreachable'],
]);

/** What to fix, for the permanent errors an operator meets most. */
const SCHEMA_HINT = "check OCPP_MYSQL_DATABASE (the ocpp-db database), CP_SYNC_DATABASE, and that the tool's tables exist there (run: cp-sync migrate)";
const GRANTS_HINT = 'check OCPP_MYSQL_USER and OCPP_MYSQL_PASSWORD, and the grants in the README ("A least-privilege database user")';
const HINTS = new Map<string, string>([
  ['ER_NO_SUCH_TABLE', SCHEMA_HINT],
  ['ER_BAD_DB_ERROR', SCHEMA_HINT],
  ['ER_BAD_FIELD_ERROR', SCHEMA_HINT],
  ['ER_ACCESS_DENIED_ERROR', GRANTS_HINT],
  ['ER_ACCESS_DENIED_NO_PASSWORD_ERROR', GRANTS_HINT],
  ['ER_DBACCESS_DENIED_ERROR', GRANTS_HINT],
  ['ER_TABLEACCESS_DENIED_ERROR', GRANTS_HINT],
  ['ER_COLUMNACCESS_DENIED_ERROR', GRANTS_HINT],
  ['ER_SPECIFIC_ACCESS_DENIED_ERROR', GRANTS_HINT],
  ['ER_DUP_ENTRY', 'a row with that key exists already (another writer?); nothing was written'],
]);

/** An error as mysql2 (or Node's net layer, through mysql2) gives it. */
export interface SqlError {
  code?: string;
  errno?: number;
  fatal?: boolean;
  sqlMessage?: string;
  message: string;
}

export function isSqlError(err: unknown): err is SqlError & Error {
  // isNativeError: a TLS error is made by Node's core, in another realm than mysql2's own errors under Jest.
  return (err instanceof Error || types.isNativeError(err)) && (typeof (err as SqlError).code === 'string' || typeof (err as SqlError).errno === 'number');
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

/** Refused logins by errno: 1045 wrong user or password, 1698 a user that may not log in with a password (MariaDB's unix_socket). */
const ACCESS_DENIED_ERRNOS = new Set([1045, 1698]);
const UNKNOWN_DATABASE_ERRNO = 1049;

/** How a connection failure names the server: `MySQL db.example.com:3306`, from the settings when known, else from the error. */
function serverOf(err: SqlError & { address?: unknown; port?: unknown; hostname?: unknown }, where?: { host: string; port: number }): string {
  if (where !== undefined) return `MySQL ${where.host}:${where.port}`;
  if (typeof err.address === 'string' && typeof err.port === 'number') return `MySQL ${err.address}:${err.port}`;
  return typeof err.hostname === 'string' ? `MySQL ${err.hostname}` : 'MySQL';
}

/**
 * A database connection that could not be made, as one line naming the setting to check: a server that cannot be
 * reached (OCPP_MYSQL_HOST/OCPP_MYSQL_PORT), a refused login (OCPP_MYSQL_USER/OCPP_MYSQL_PASSWORD), a database that
 * does not exist (OCPP_MYSQL_DATABASE). Undefined when `err` is none of these (a TLS problem has databaseTlsProblem).
 * `where` is the server from the settings, when the caller has them.
 */
export function databaseConnectionError(err: unknown, where?: { host: string; port: number }): ConnectionSettingError | undefined {
  if (err instanceof ConnectionSettingError) return err;
  if (!isSqlError(err)) return undefined;
  const server = serverOf(err, where);
  const problem = socketProblem(err.code);
  if (problem !== undefined && err.code !== 'ECONNRESET') {
    const setting = err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN' ? 'OCPP_MYSQL_HOST' : 'OCPP_MYSQL_HOST/OCPP_MYSQL_PORT';
    return new ConnectionSettingError(setting, `${server} (${setting}): ${problem.words} (${problem.code}): ${problem.hint}`);
  }
  if (typeof err.errno === 'number' && ACCESS_DENIED_ERRNOS.has(err.errno)) {
    const setting = 'OCPP_MYSQL_USER/OCPP_MYSQL_PASSWORD';
    return new ConnectionSettingError(setting, `${server} (${setting}): login refused: ${err.sqlMessage ?? err.message} (errno ${err.errno})`);
  }
  if (err.errno === UNKNOWN_DATABASE_ERRNO) {
    return new ConnectionSettingError('OCPP_MYSQL_DATABASE', `${server} (OCPP_MYSQL_DATABASE): ${err.sqlMessage ?? err.message}; expected the OCPP backend's database`);
  }
  return undefined;
}

/**
 * What the first connection of the worker or a command throws instead of mysql2's error: a ConnectionSettingError for
 * every connection problem, TLS ones included (`tls` is the setting, `'off'` for OCPP_MYSQL_SSL=off); anything else
 * as it is.
 */
export function databaseStartError(err: unknown, config: { host: string; port: number; tls?: DatabaseTls }): unknown {
  const tlsProblem = databaseTlsProblem(err, config.tls ?? 'off');
  if (tlsProblem !== undefined) {
    const setting = (err as SqlError).code === 'ER_ACCESS_DENIED_ERROR' ? 'OCPP_MYSQL_USER/OCPP_MYSQL_PASSWORD/OCPP_MYSQL_SSL' : 'OCPP_MYSQL_SSL';
    return new ConnectionSettingError(setting, `MySQL ${config.host}:${config.port} (${setting}): ${tlsProblem}`);
  }
  return databaseConnectionError(err, config) ?? err;
}

/** The short reason of a transient database error ("lock wait timeout"), or undefined when it is not one. */
export function transientReason(err: unknown): string | undefined {
  if (!isSqlError(err)) return undefined;
  // A TLS handshake that failed on certificates fails again: not transient, although mysql2 marks it fatal.
  if (databaseTlsProblem(err) !== undefined) return undefined;
  const byCode = err.code !== undefined ? TRANSIENT_CODES.get(err.code) : undefined;
  const byErrno = typeof err.errno === 'number' ? TRANSIENT_ERRNOS.get(err.errno) : undefined;
  // A fatal error is one that closed the connection: a fresh connection may well succeed.
  return byCode ?? byErrno ?? (err.fatal === true ? 'connection closed' : undefined);
}

export function isTransientDatabaseError(err: unknown): boolean {
  return transientReason(err) !== undefined;
}

function describe(err: SqlError): string {
  const code = err.code ?? `errno ${err.errno}`;
  return `${code}: ${err.sqlMessage ?? err.message}`;
}

/**
 * What an activity of the plan or the apply throws for `err`:
 *   - Temporal's own failures (an ApplicationFailure already decided, a CancelledFailure) as they are;
 *   - a transient database error as a retryable ApplicationFailure (`TransientDatabaseError`, with the reason);
 *   - any other database error as a non-retryable `DatabaseError` with what to fix;
 *   - anything else as a non-retryable `UnexpectedError`: retrying a defect only delays the failure.
 */
export function toActivityFailure(err: unknown): Error {
  if (err instanceof TemporalFailure) return err;
  if (isSqlError(err)) {
    const reason = transientReason(err);
    if (reason !== undefined) {
      return ApplicationFailure.create({ type: TRANSIENT_DATABASE_ERROR, message: `${reason} (${describe(err)})`, nonRetryable: false });
    }
    const tlsProblem = databaseTlsProblem(err);
    if (tlsProblem !== undefined) return ApplicationFailure.create({ type: ERROR_TYPES.tls, message: tlsProblem, nonRetryable: true });
    const hint = err.code !== undefined ? HINTS.get(err.code) : undefined;
    return ApplicationFailure.create({ type: ERROR_TYPES.database, message: `${describe(err)}${hint ? `; ${hint}` : ''}`, nonRetryable: true });
  }
  const message = err instanceof Error ? (err.name === 'Error' ? err.message : `${err.name}: ${err.message}`) : String(err);
  return ApplicationFailure.create({ type: ERROR_TYPES.unexpected, message, nonRetryable: true });
}

/** Whether Temporal will run another attempt after `failure` (the retry policy's attempt limit aside). */
export function isRetryable(failure: Error, nonRetryableTypes: readonly string[] = []): boolean {
  if (!(failure instanceof ApplicationFailure)) return !(failure instanceof TemporalFailure);
  return !failure.nonRetryable && !nonRetryableTypes.includes(failure.type ?? '');
}
