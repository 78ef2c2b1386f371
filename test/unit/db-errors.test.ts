import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { databaseTlsProblem, isRetryable, isTransientDatabaseError, toActivityFailure, transientReason } from '../../src/db/errors';
import { allocateIdBlock } from '../../src/domain/ids';
import { ERROR_TYPES, TRANSIENT_DATABASE_ERROR } from '../../src/shared';

/** An error shaped as mysql2 gives it: a server error has code, errno and sqlMessage; a network error only code. */
function sqlError(code: string, message: string, extra: { errno?: number; fatal?: boolean } = {}): Error & { code: string } {
  return Object.assign(new Error(message), { code, ...extra, ...(extra.errno !== undefined ? { sqlMessage: message } : {}) });
}

/** [case, error, the reason the retry line shows] */
const transient: [string, Error & { code: string }, string][] = [
  ['a deadlock (1213)', sqlError('ER_LOCK_DEADLOCK', 'Deadlock found when trying to get lock; try restarting transaction', { errno: 1213 }), 'deadlock'],
  ['a lock wait timeout (1205)', sqlError('ER_LOCK_WAIT_TIMEOUT', 'Lock wait timeout exceeded; try restarting transaction', { errno: 1205 }), 'lock wait timeout'],
  ['server gone away (2006)', sqlError('CR_SERVER_GONE_ERROR', 'MySQL server has gone away', { errno: 2006 }), 'server gone away'],
  ['a lost connection (2013)', sqlError('CR_SERVER_LOST', 'Lost connection to MySQL server during query', { errno: 2013 }), 'lost connection'],
  ['too many connections (1040)', sqlError('ER_CON_COUNT_ERROR', 'Too many connections', { errno: 1040 }), 'too many connections'],
  ['a read-only server during failover (1290)', sqlError('ER_OPTION_PREVENTS_STATEMENT', 'The MySQL server is running with the --read-only option so it cannot execute this statement', { errno: 1290 }), 'server read-only (failover?)'],
  ['a read-only transaction (1792)', sqlError('ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION', 'Cannot execute statement in a READ ONLY transaction', { errno: 1792 }), 'read-only transaction (failover?)'],
  ['read-only mode (1836)', sqlError('ER_READ_ONLY_MODE', 'Running in read-only mode', { errno: 1836 }), 'server in read-only mode (failover?)'],
  ['a server shutdown (1053)', sqlError('ER_SERVER_SHUTDOWN', 'Server shutdown in progress', { errno: 1053 }), 'server shutting down'],
  ['a killed connection (MariaDB 1927)', sqlError('ER_CONNECTION_KILLED', 'Connection was killed', { errno: 1927 }), 'connection killed'],
  [
    "a server temporary table deleted from the server's tmpdir (6)",
    sqlError('EE_DELETE', "Error on delete of '/tmp/#sql-temptable-3a1-5-1a.MAI' (Errcode: 2 \"No such file or directory\")", { errno: 6 }),
    "server temporary file error (check the server's tmpdir)",
  ],
  ['mysql2: connection lost', sqlError('PROTOCOL_CONNECTION_LOST', 'Connection lost: The server closed the connection.', { fatal: true }), 'lost connection'],
  ['a reset connection', sqlError('ECONNRESET', 'read ECONNRESET', { fatal: true }), 'connection reset'],
  ['a refused connection', sqlError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:3306'), 'connection refused'],
  ['a connection timeout', sqlError('ETIMEDOUT', 'connect ETIMEDOUT'), 'connection timeout'],
  ['a broken pipe', sqlError('EPIPE', 'write EPIPE', { fatal: true }), 'connection closed'],
  ['an errno without a known code (1205)', sqlError('UNKNOWN_CODE', 'Lock wait timeout exceeded', { errno: 1205 }), 'lock wait timeout'],
  ['an unknown code that closed the connection', sqlError('ER_SOMETHING_NEW', 'closed', { fatal: true }), 'connection closed'],
];

/** [case, error, what the message must tell the operator] */
const permanent: [string, Error & { code: string }, RegExp][] = [
  ['a missing table (1146)', sqlError('ER_NO_SUCH_TABLE', "Table 'ocpp.charging_points' doesn't exist", { errno: 1146 }), /OCPP_MYSQL_DATABASE.*cp-sync migrate/],
  ['a missing database (1049)', sqlError('ER_BAD_DB_ERROR', "Unknown database 'ocpp'", { errno: 1049 }), /OCPP_MYSQL_DATABASE.*cp-sync migrate/],
  ['a refused password (1045)', sqlError('ER_ACCESS_DENIED_ERROR', "Access denied for user 'sync'@'localhost' (using password: YES)", { errno: 1045 }), /grants in the README/],
  ['a refused table (1142)', sqlError('ER_TABLEACCESS_DENIED_ERROR', "INSERT command denied to user 'sync'@'localhost' for table 'charging_points'", { errno: 1142 }), /grants in the README/],
  ['a duplicate key (1062)', sqlError('ER_DUP_ENTRY', "Duplicate entry '1234' for key 'PRIMARY'", { errno: 1062 }), /Duplicate entry/],
  ['a trigger refusing a row (1644)', sqlError('ER_SIGNAL_EXCEPTION', 'row refused', { errno: 1644 }), /^ER_SIGNAL_EXCEPTION: row refused$/],
  ['a syntax error (1064)', sqlError('ER_PARSE_ERROR', 'You have an error in your SQL syntax', { errno: 1064 }), /ER_PARSE_ERROR/],
];

describe('transientReason / isTransientDatabaseError', () => {
  it.each(transient)('retries %s', (_case, err, reason) => {
    expect(transientReason(err)).toBe(reason);
    expect(isTransientDatabaseError(err)).toBe(true);
  });

  it.each(permanent)('does not retry %s', (_case, err) => {
    expect(transientReason(err)).toBeUndefined();
  });

  it.each([
    ['an error without a code', new Error('boom')],
    ['a string', 'ER_LOCK_DEADLOCK'],
    ['a plain object with a code', { code: 'ER_LOCK_DEADLOCK', message: 'not an Error' }],
    ['undefined', undefined],
  ])('is false for %s', (_case, err) => {
    expect(isTransientDatabaseError(err)).toBe(false);
  });
});

describe('toActivityFailure', () => {
  it.each(transient)('makes %s a retryable TransientDatabaseError that names the reason and the code', (_case, err, reason) => {
    const failure = toActivityFailure(err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: TRANSIENT_DATABASE_ERROR, nonRetryable: false });
    expect(failure.message).toBe(`${reason} (${err.code}: ${err.message})`);
    expect(isRetryable(failure)).toBe(true);
  });

  it.each(permanent)('makes %s a non-retryable DatabaseError that says what to fix', (_case, err, says) => {
    const failure = toActivityFailure(err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: ERROR_TYPES.database, nonRetryable: true });
    expect(failure.message.startsWith(`${err.code}: ${err.message}`)).toBe(true);
    expect(failure.message).toMatch(says);
    expect(isRetryable(failure)).toBe(false);
  });

  it('makes an error that is not from the database (ids past 2^53) a non-retryable UnexpectedError, message kept', () => {
    let thrown: unknown;
    try {
      allocateIdBlock(9007199254740990n, 5);
    } catch (err) {
      thrown = err;
    }
    const failure = toActivityFailure(thrown);
    expect(failure).toMatchObject({ type: ERROR_TYPES.unexpected, nonRetryable: true });
    expect(failure.message).toMatch(/^RangeError: charging_points\.id would pass 9007199254740991 .*refusing to create unsafe ids$/);
  });

  it.each([
    ['a plain Error', new Error('no record of run r1 in cp_sync_runs'), 'no record of run r1 in cp_sync_runs'],
    ['a TypeError', new TypeError("Cannot read properties of undefined (reading 'id')"), "TypeError: Cannot read properties of undefined (reading 'id')"],
    ['a thrown string', 'boom', 'boom'],
  ])('makes %s a non-retryable UnexpectedError', (_case, err, message) => {
    expect(toActivityFailure(err)).toMatchObject({ type: ERROR_TYPES.unexpected, nonRetryable: true, message });
  });

  it.each([
    ['a cancellation', new CancelledFailure('CANCELLED')],
    ['an ApplicationFailure already decided', ApplicationFailure.create({ type: ERROR_TYPES.planMismatch, message: 'changed', nonRetryable: true })],
  ])("passes Temporal's own %s through as it is", (_case, err) => {
    expect(toActivityFailure(err)).toBe(err);
  });
});

describe('isRetryable', () => {
  it('follows the policy\'s non-retryable types too', () => {
    const failure = ApplicationFailure.create({ type: 'SomeType', message: 'x' });
    expect(isRetryable(failure)).toBe(true);
    expect(isRetryable(failure, ['SomeType'])).toBe(false);
  });

  it('never retries a cancellation', () => {
    expect(isRetryable(new CancelledFailure('CANCELLED'))).toBe(false);
  });
});

/** TLS problems: [case, the error as mysql2 gives it, what the message must name]. */
const tlsProblems: [string, Error & { code: string }, string][] = [
  ['a server certificate from another CA', sqlError('HANDSHAKE_SSL_ERROR', 'self-signed certificate in certificate chain', { fatal: true }), 'set OCPP_MYSQL_SSL_CA_PATH'],
  ['an intermediate missing', sqlError('HANDSHAKE_SSL_ERROR', 'unable to verify the first certificate', { fatal: true }), 'set OCPP_MYSQL_SSL_CA_PATH'],
  ['an expired server certificate', sqlError('HANDSHAKE_SSL_ERROR', 'certificate has expired', { fatal: true }), 'current certificate'],
  [
    'a certificate for another host (verify-identity)',
    sqlError('HANDSHAKE_SSL_ERROR', "Hostname/IP does not match certificate's altnames: Host: db.internal. is not in the cert's altnames: DNS:localhost", { fatal: true }),
    'OCPP_MYSQL_HOST',
  ],
  [
    'a server that wants a client certificate',
    sqlError('HANDSHAKE_SSL_ERROR', 'C0:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:rec_layer_s3.c:1601:SSL alert number 116', { fatal: true }),
    'set OCPP_MYSQL_SSL_CERT_PATH and OCPP_MYSQL_SSL_KEY_PATH',
  ],
  ['MySQL with require_secure_transport, a client without TLS', sqlError('ER_SECURE_TRANSPORT_REQUIRED', 'Connections using insecure transport are prohibited while --require_secure_transport=ON.', { errno: 3159 }), 'set OCPP_MYSQL_SSL'],
  ['TLS asked of a server without it', sqlError('HANDSHAKE_NO_SSL_SUPPORT', 'Server does not support secure connection', { fatal: true }), 'OCPP_MYSQL_SSL=off'],
];

describe('TLS problems with the database', () => {
  it.each(tlsProblems)('%s: never retried, a TlsError that says what to set', (_case, err, names) => {
    expect(isTransientDatabaseError(err)).toBe(false);
    const failure = toActivityFailure(err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: ERROR_TYPES.tls, nonRetryable: true });
    expect(failure.message).toMatch(/^TLS: /);
    expect(failure.message).toContain(names);
  });

  it.each([
    // mysql2 names every failed TLS handshake HANDSHAKE_SSL_ERROR (fatal), a network cut during it too.
    ['a reset during the TLS handshake', sqlError('HANDSHAKE_SSL_ERROR', 'read ECONNRESET', { fatal: true })],
    ['a socket closed during the TLS handshake', sqlError('HANDSHAKE_SSL_ERROR', 'Client network socket disconnected before secure TLS connection was established', { fatal: true })],
  ])('%s is a network problem: retried', (_case, err) => {
    expect(isTransientDatabaseError(err)).toBe(true);
  });
});

describe('databaseTlsProblem', () => {
  const refused = sqlError('ER_ACCESS_DENIED_ERROR', "Access denied for user 'sync'@'10.0.0.2' (using password: YES)", { errno: 1045 });

  it('explains a refusal without TLS: MariaDB with require_secure_transport answers as for a wrong password', () => {
    expect(databaseTlsProblem(refused, 'off')).toBe(
      "ER_ACCESS_DENIED_ERROR: Access denied for user 'sync'@'10.0.0.2' (using password: YES) (check OCPP_MYSQL_USER and OCPP_MYSQL_PASSWORD; a server that requires TLS (require_secure_transport) refuses a connection without it too: set OCPP_MYSQL_SSL)",
    );
  });

  it('leaves a refusal alone when TLS was on, or when the setting is unknown', () => {
    expect(databaseTlsProblem(refused, { mode: 'on' })).toBeUndefined();
    expect(databaseTlsProblem(refused)).toBeUndefined();
  });

  it('advises on the client certificate in place when one was given', () => {
    const alert = sqlError('HANDSHAKE_SSL_ERROR', 'error:0A000418:SSL routines::tlsv1 alert unknown ca', { fatal: true });
    expect(databaseTlsProblem(alert, { mode: 'on', cert: Buffer.from('x') })).toMatch(/refused our client certificate .*check OCPP_MYSQL_SSL_CERT_PATH and OCPP_MYSQL_SSL_KEY_PATH/);
  });
});
