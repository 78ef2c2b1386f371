/**
 * A database that dies while a streamed query runs (a private MariaDB, SIGKILLed: never the shared one). mysql2 tells
 * a lost connection only to queries that have a callback; a streamed query has none, so it got neither an error nor an
 * end and its reader waited for ever: a watch's apply whose plan was being streamed when MariaDB crashed hung,
 * heartbeating, and its worker could not shut down (db/pool.ts watchConnection). Here another connection's table lock
 * holds each stream, so that it surely runs when the server dies.
 */
import { tmpdir } from 'node:os';
import mysql from 'mysql2/promise';
import type { RowDataPacket } from 'mysql2';
import { ApplicationFailure } from '@temporalio/common';
import { createPool, streamRows, type Pool } from '../../src/db/pool';
import { toActivityFailure } from '../../src/db/errors';
import { TRANSIENT_DATABASE_ERROR } from '../../src/shared';
import { applyPlan } from '../../src/store/applier';
import { buildPlan } from '../../src/store/planner';
import { connectionOptions, E2eDatabase } from '../support/e2e-db';
import { start, type PrivateMariadb } from '../support/private-mariadb';
import { waitFor } from '../support/wait';

let server: PrivateMariadb | undefined;
let db: E2eDatabase;

beforeAll(async () => {
  server = await start();
  db = await E2eDatabase.create('cps_e2e_lost', { server: { host: server.host, port: server.port, user: server.user, password: server.password } });
}, 90_000);

afterAll(async () => {
  await db?.drop();
  await server?.stop();
}, 30_000);

/** How long a stream may take to fail once its server is gone (it fails within milliseconds; a hang never does). */
const FAILS_WITHIN_MS = 10_000;

/** Holds every read of `table` (LOCK TABLES … WRITE) on a connection of its own, as a long query would. */
async function holdTable(table: string): Promise<mysql.Connection> {
  const connection = await mysql.createConnection(connectionOptions(db.config));
  // The server's death is this connection's error too: expected, not a failure of the test.
  connection.on('error', () => undefined);
  await connection.query(`LOCK TABLES ${table} WRITE`);
  return connection;
}

/** Waits until a statement containing `text` waits in the server (on the table lock), then kills the server. */
async function crashWhileWaiting(holder: mysql.Connection, text: string): Promise<void> {
  await waitFor(
    `a statement with ${text} waiting`,
    async () => {
      const [rows] = await holder.query<RowDataPacket[]>('SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()', [`%${text}%`]);
      return rows.length > 0;
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  );
  await server!.crash();
}

/** `promise`'s error; fails the test when `promise` has neither failed nor succeeded within FAILS_WITHIN_MS (a hang). */
async function failureOf(promise: Promise<unknown>, what: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const hung = Symbol('hung');
  const outcome = await Promise.race([
    promise.then(
      () => ({ succeeded: true as const }),
      (error: unknown) => ({ error }),
    ),
    new Promise<typeof hung>((resolve) => (timer = setTimeout(() => resolve(hung), FAILS_WITHIN_MS))),
  ]).finally(() => clearTimeout(timer));
  if (outcome === hung) throw new Error(`${what} is still waiting ${FAILS_WITHIN_MS} ms after the server was killed`);
  if ('succeeded' in outcome) throw new Error(`${what} succeeded although the server was killed`);
  return outcome.error;
}

async function restartAfter(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } finally {
    await server!.restart();
  }
}

test("a private server keeps its temporary files in a directory of its own, never in the shared server's /tmp", async () => {
  // At start a server deletes every `#sql*` file of its tmpdir: in /tmp, the shared server's live temporary tables,
  // whose queries then failed with EE_DELETE (a 1M benchmark's plan, plan-export.e2e's read of 100,000 stations).
  const [[row]] = await db.pool.query<RowDataPacket[]>('SELECT @@tmpdir AS tmpdir');
  expect(String(row?.tmpdir)).toMatch(new RegExp(`^${tmpdir()}/cps-mariadb-[^/]+/tmp$`));
});

test('an apply whose plan is being streamed when the database dies fails with a retryable error, not a hang', async () => {
  const station = await db.station({ station_id: 'LOST-1', name: 'Lost 1' });
  const runKey = 'lost-apply';
  await db.pool.query(`INSERT INTO ${db.tables.runs} (run_key, workflow_id, started) VALUES (?, 'lost-connection-e2e', UTC_TIMESTAMP())`, [runKey]);
  await db.pool.query(`INSERT INTO ${db.tables.observations} (run_key, device_id, device_plain, connectors) VALUES (?, ?, ?, 2)`, [runKey, station.station_id, 'LOST1']);
  const pool: Pool = createPool(db.config, 3);
  await restartAfter(async () => {
    const plan = await buildPlan({ pool, tables: db.tables }, { runKey });
    expect(plan.pointsToCreate).toBe(2);
    const holder = await holdTable(db.tables.planStations);
    const applying = applyPlan({ pool, tables: db.tables }, { runKey, fingerprint: plan.fingerprint });
    applying.catch(() => undefined);
    await crashWhileWaiting(holder, 'SELECT station_pk AS stationPk');

    const err = await failureOf(applying, 'the apply');
    const failure = toActivityFailure(err);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: TRANSIENT_DATABASE_ERROR, nonRetryable: false });
    holder.destroy();
    await pool.end().catch(() => undefined);
  });
}, 60_000);

test('a row stream (the plan export) fails with a lost connection when the database dies, not a hang', async () => {
  const pool = createPool(db.config, 1);
  const connection = await pool.getConnection();
  await restartAfter(async () => {
    const holder = await holdTable(db.tables.planStations);
    const reading = (async () => {
      for await (const row of streamRows(connection, `SELECT /* lost-stream */ run_key FROM ${db.tables.planStations}`, [])) void row;
    })();
    reading.catch(() => undefined);
    await crashWhileWaiting(holder, 'lost-stream');

    expect(await failureOf(reading, 'the stream')).toMatchObject({ code: expect.stringMatching(/^(PROTOCOL_CONNECTION_LOST|ECONNRESET)$/) });
    holder.destroy();
    connection.destroy();
    await pool.end().catch(() => undefined);
  });
}, 60_000);
