import mysql, { type SslOptions } from 'mysql2/promise';
import type { DatabaseConfig, DatabaseTls } from '../config';

export type Pool = mysql.Pool;
export type Connection = mysql.PoolConnection;

/**
 * mysql2's `ssl` option for OCPP_MYSQL_SSL: `on` encrypts without verifying the server, `verify-ca` checks its
 * certificate against the CA, `verify-identity` also checks that the certificate names OCPP_MYSQL_HOST.
 */
export function sslOptions(tls: DatabaseTls | undefined): SslOptions | undefined {
  if (tls === undefined) return undefined;
  const verify = tls.mode !== 'on';
  return { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: verify, verifyIdentity: tls.mode === 'verify-identity' };
}

/** What every connection of the tool uses (the worker's pool, `cp-sync migrate`, `cp-sync prune`). */
export function connectionOptions(config: DatabaseConfig): mysql.ConnectionOptions {
  return {
    host: config.host,
    port: config.port,
    // Queries name every table with its schema (db/tables.ts); the default schema is only a starting point.
    database: config.database,
    user: config.user,
    password: config.password,
    ssl: sslOptions(config.tls),
    // Ids are BIGINT UNSIGNED: keep them exact as strings, never as rounded numbers.
    supportBigNumbers: true,
    bigNumberStrings: true,
    // created/updated are written in UTC, as the original (Sequelize's default) did.
    timezone: 'Z',
    charset: 'utf8mb4',
    enableKeepAlive: true,
    // A host that drops packets is reported (naming OCPP_MYSQL_HOST) within 5 s, not mysql2's default 10 s.
    connectTimeout: 5000,
    multipleStatements: false,
  };
}

/**
 * Six connections: a plan uses up to three (store/planner.ts: one plan at a time), an apply one, the collection windows
 * of the runs in flight borrow one for each flush.
 */
export function createPool(config: DatabaseConfig, connectionLimit = 6): Pool {
  const options = connectionOptions(config);
  const pool = mysql.createPool({ ...options, connectionLimit });
  optionsByPool.set(pool, options);
  const { lockWaitTimeoutSeconds } = config;
  if (lockWaitTimeoutSeconds !== undefined) {
    // Emitted with the callback connection before it is handed out, so this runs before its first query.
    pool.on('connection', (connection) => {
      const core = connection as unknown as import('mysql2').PoolConnection;
      core.query('SET SESSION innodb_lock_wait_timeout = ?', [lockWaitTimeoutSeconds], () => undefined);
    });
  }
  return pool;
}

const optionsByPool = new WeakMap<Pool, mysql.ConnectionOptions>();

/** How `pool` connects, to open a connection beside it (db/attempt-queries.ts); undefined for a pool made elsewhere. */
export function poolConnectionOptions(pool: Pool): mysql.ConnectionOptions | undefined {
  return optionsByPool.get(pool);
}

/**
 * Calls `lost` once if `core` is lost before the returned function is called (the query's end). mysql2 tells a lost
 * connection only to commands with a callback: a streamed query has none, so it gets neither 'error' nor 'end' and its
 * reader waited for ever (seen: MariaDB killed while a watch's apply streamed its stored plan; the attempt hung,
 * heartbeating, until its 30-minute start-to-close timeout, and its worker could not shut down). The connection emits
 * 'error' when the server goes; its socket's 'close' also covers a connection closed here (AttemptQueries), which
 * mysql2 reports to nobody. Watched before the query is sent: on a connection already closed, mysql2 emits the
 * query's error on the connection at once.
 */
function watchConnection(core: import('mysql2').Connection, lost: (error: Error) => void): () => void {
  const socket = (core as unknown as { stream?: import('node:events').EventEmitter & { destroyed?: boolean } }).stream;
  let watching = true;
  const onError = (error: Error): void => {
    if (!watching) return;
    stop();
    lost(error);
  };
  const onClose = (): void => onError(connectionLost());
  const stop = (): void => {
    watching = false;
    core.removeListener('error', onError);
    socket?.removeListener('close', onClose);
  };
  core.on('error', onError);
  socket?.once('close', onClose);
  if (socket?.destroyed) onClose();
  return stop;
}

/** What a streamed query fails with when its connection is gone: mysql2's own code, which db/errors.ts retries. */
function connectionLost(): Error {
  return Object.assign(new Error('Connection lost: the connection closed while a streamed query was being read'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true });
}

/**
 * Streams a query's rows without buffering the result set. mysql2's promise wrapper keeps the callback
 * connection (which can stream) in `.connection`, typed as the promise one. A lost connection fails the stream.
 */
export function streamRows<T>(connection: Connection, sql: string, params: unknown[], highWaterMark = 1000): AsyncIterable<T> {
  const core = connection.connection as unknown as import('mysql2').Connection;
  // The connection may be found lost before the stream exists (it was closed already).
  let lostEarly: Error | undefined;
  let destroy = (error: Error): void => void (lostEarly ??= error);
  const unwatch = watchConnection(core, (error) => destroy(error));
  const stream = core.query(sql, params).stream({ highWaterMark });
  destroy = (error) => stream.destroy(error);
  stream.once('close', unwatch);
  if (lostEarly) stream.destroy(lostEarly);
  return stream as AsyncIterable<T>;
}

/**
 * Streams a query's rows in arrays of up to `batchSize`, reading ahead at most two arrays (the socket is paused
 * beyond that). The query is sent at once, so the database works while the caller does other things. For the diff's
 * million-row streams: a consumer that works through an array synchronously makes one promise per array instead of
 * several per row, which at this size costs more than the rows themselves. An error is thrown to the consumer, a lost
 * connection too.
 */
export function streamBatches<T>(connection: Connection, sql: string, params: unknown[], batchSize = 1000): AsyncIterable<T[]> {
  const core = connection.connection as unknown as import('mysql2').Connection;
  const ready: T[][] = [];
  let filling: T[] = [];
  let ended = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  // Assigned below; called by `fail` for the query's own error (the watch stops itself before it reports).
  let unwatch = (): void => undefined;
  const fail = (error: unknown): void => {
    unwatch();
    failure ??= { error };
    ended = true;
    notify();
  };
  unwatch = watchConnection(core, fail);
  core
    .query(sql, params)
    .on('result', (row) => {
      filling.push(row as T);
      if (filling.length < batchSize) return;
      ready.push(filling);
      filling = [];
      if (ready.length >= 2) core.pause();
      notify();
    })
    .on('error', fail)
    .on('end', () => {
      unwatch();
      if (filling.length > 0) ready.push(filling);
      filling = [];
      ended = true;
      notify();
    });
  async function* batches(): AsyncGenerator<T[]> {
    for (;;) {
      if (failure) throw failure.error;
      const batch = ready.shift();
      if (batch) {
        // Resuming may deliver the rows mysql2 held while paused, synchronously, into `ready`.
        if (!ended && ready.length < 2) core.resume();
        yield batch;
        continue;
      }
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  return { [Symbol.asyncIterator]: batches };
}
