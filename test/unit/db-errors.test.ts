import { ApplicationFailure } from '@temporalio/common';
import { classifyDatabaseError, databaseTlsProblem, isTransientDatabaseError } from '../../src/db/errors';
import { ERROR_TYPES } from '../../src/shared';

/** An error shaped as mysql2 gives it. */
function sqlError(code: string, message: string, extra: { errno?: number; fatal?: boolean; syscall?: string } = {}): Error {
  return Object.assign(new Error(message), { code, ...extra });
}

const transient: [string, Error][] = [
  ['a deadlock', sqlError('ER_LOCK_DEADLOCK', 'Deadlock found when trying to get lock; try restarting transaction', { errno: 1213 })],
  ['a lock wait timeout', sqlError('ER_LOCK_WAIT_TIMEOUT', 'Lock wait timeout exceeded', { errno: 1205 })],
  ['a lost connection', sqlError('PROTOCOL_CONNECTION_LOST', 'Connection lost: The server closed the connection.', { fatal: true })],
  ['a reset connection', sqlError('ECONNRESET', 'read ECONNRESET', { fatal: true })],
  ['a refused connection', sqlError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:3306')],
  ['a killed connection', sqlError('ER_CONNECTION_KILLED', 'Connection was killed', { errno: 1927 })],
  ['a server shutdown', sqlError('ER_SERVER_SHUTDOWN', 'Server shutdown in progress', { errno: 1053 })],
  ['an unknown code that closed the connection', sqlError('ER_SOMETHING_NEW', 'closed', { fatal: true })],
  // mysql2 names every failed TLS handshake HANDSHAKE_SSL_ERROR (fatal), a network cut during it too.
  ['a reset during the TLS handshake', sqlError('HANDSHAKE_SSL_ERROR', 'read ECONNRESET', { fatal: true, syscall: 'read' })],
  ['a socket closed during the TLS handshake', sqlError('HANDSHAKE_SSL_ERROR', 'Client network socket disconnected before secure TLS connection was established', { fatal: true })],
];

const permanent: [string, Error][] = [
  ['a missing table', sqlError('ER_NO_SUCH_TABLE', "Table 'ocpp.charging_points' doesn't exist", { errno: 1146 })],
  ['a refused password', sqlError('ER_ACCESS_DENIED_ERROR', "Access denied for user 'sync'@'localhost' (using password: YES)", { errno: 1045 })],
  ['a missing database', sqlError('ER_BAD_DB_ERROR', "Unknown database 'ocpp'", { errno: 1049 })],
  ['a duplicate key', sqlError('ER_DUP_ENTRY', "Duplicate entry '1234' for key 'PRIMARY'", { errno: 1062 })],
];

/** TLS problems: [case, the error as mysql2 gives it, what the message must name]. */
const tlsProblems: [string, Error, string][] = [
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

describe('isTransientDatabaseError', () => {
  it.each(tlsProblems)('is false for %s', (_case, err) => {
    expect(isTransientDatabaseError(err)).toBe(false);
  });

  it.each(transient)('is true for %s', (_case, err) => {
    expect(isTransientDatabaseError(err)).toBe(true);
  });

  it.each(permanent)('is false for %s', (_case, err) => {
    expect(isTransientDatabaseError(err)).toBe(false);
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

describe('classifyDatabaseError', () => {
  /** What classifyDatabaseError throws for `err`. */
  function thrownFor(err: unknown): unknown {
    try {
      classifyDatabaseError(err);
    } catch (thrown) {
      return thrown;
    }
    throw new Error('classifyDatabaseError returned');
  }

  it.each(transient)('rethrows %s as it is, for Temporal to retry', (_case, err) => {
    expect(thrownFor(err)).toBe(err);
  });

  it('rethrows an error that is not from the database as it is', () => {
    const err = new Error('boom');
    expect(thrownFor(err)).toBe(err);
  });

  it.each(permanent)('turns %s into a non-retryable DatabaseError', (_case, err) => {
    const thrown = thrownFor(err);
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    expect(thrown).toMatchObject({ type: ERROR_TYPES.database, nonRetryable: true });
    expect(ERROR_TYPES.database).toBe('DatabaseError');
  });

  it.each(tlsProblems)('turns %s into a non-retryable TlsError that says what to set', (_case, err, names) => {
    const thrown = thrownFor(err);
    expect(thrown).toBeInstanceOf(ApplicationFailure);
    expect(thrown).toMatchObject({ type: ERROR_TYPES.tls, nonRetryable: true });
    expect(ERROR_TYPES.tls).toBe('TlsError');
    expect((thrown as ApplicationFailure).message).toMatch(/^TLS: /);
    expect((thrown as ApplicationFailure).message).toContain(names);
    expect((thrown as ApplicationFailure).message).toContain(err.message.includes('alert') ? 'tlsv13 alert certificate required' : err.message);
  });

  it('keeps the code and the message', () => {
    const thrown = thrownFor(permanent[0]![1]);
    expect((thrown as ApplicationFailure).message).toBe("ER_NO_SUCH_TABLE: Table 'ocpp.charging_points' doesn't exist");
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
