import { ApplicationFailure } from '@temporalio/common';
import { classifyDatabaseError, isTransientDatabaseError } from '../../src/db/errors';
import { ERROR_TYPES } from '../../src/shared';

/** An error shaped as mysql2 gives it. */
function sqlError(code: string, message: string, extra: { errno?: number; fatal?: boolean } = {}): Error {
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
];

const permanent: [string, Error][] = [
  ['a missing table', sqlError('ER_NO_SUCH_TABLE', "Table 'ocpp.charging_points' doesn't exist", { errno: 1146 })],
  ['a refused password', sqlError('ER_ACCESS_DENIED_ERROR', "Access denied for user 'sync'@'localhost' (using password: YES)", { errno: 1045 })],
  ['a missing database', sqlError('ER_BAD_DB_ERROR', "Unknown database 'ocpp'", { errno: 1049 })],
  ['a duplicate key', sqlError('ER_DUP_ENTRY', "Duplicate entry '1234' for key 'PRIMARY'", { errno: 1062 })],
];

describe('isTransientDatabaseError', () => {
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

  it('keeps the code and the message', () => {
    const thrown = thrownFor(permanent[0]![1]);
    expect((thrown as ApplicationFailure).message).toBe("ER_NO_SUCH_TABLE: Table 'ocpp.charging_points' doesn't exist");
  });
});
