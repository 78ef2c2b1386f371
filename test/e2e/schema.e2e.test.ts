/**
 * The tool's own schema, as an operator meets it: `cp-sync migrate` (dry run, first run, repeat), the worker and
 * `start` refusing to run on a missing schema (one line naming the database and `run: cp-sync migrate`, exit 7),
 * the least-privileged runtime user (exactly the README's grants, and nothing more), and `cp-sync prune`.
 */
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { randomBytes } from 'node:crypto';
import type { DatabaseConfig } from '../../src/config';
import { EXIT } from '../../src/domain/exit-codes';
import { runtimeGrants } from '../../src/db/grants';
import { SCHEMA_VERSION } from '../../src/db/migrations';
import { createOcppSchema } from '../../tools/demo/ocpp-schema';
import { tablesFor } from '../../src/db/tables';
import { buildCli, CliRunner, expectExit } from '../support/e2e-cli';
import { report, useE2e } from '../support/e2e';
import { serverConfig } from '../support/e2e-db';

const e2e = useE2e('schema');


async function schemaExists(name: string): Promise<boolean> {
  const root = await mysql.createConnection(serverConfig());
  try {
    const [rows] = await root.query<RowDataPacket[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
    return rows.length > 0;
  } finally {
    await root.end();
  }
}

beforeAll(async () => {
  await buildCli();
}, 120_000);

describe('cp-sync migrate', () => {
  const name = `cps_e2e_mig_${randomBytes(4).toString('hex')}`;
  const fresh: DatabaseConfig = { ...serverConfig(), database: name, toolDatabase: `${name}_tool` };
  const cli = new CliRunner(() => ({
    PATH: process.env.PATH,
    ...e2e.env,
    OCPP_MYSQL_USER: fresh.user,
    OCPP_MYSQL_PASSWORD: fresh.password,
    OCPP_MYSQL_DATABASE: fresh.database,
    CP_SYNC_DATABASE: fresh.toolDatabase,
    TEMPORAL_TASK_QUEUE: `${e2e.taskQueue}-fresh`,
  }));

  beforeAll(async () => {
    await createOcppSchema(fresh);
  });

  afterAll(async () => {
    cli.dispose();
    const root = await mysql.createConnection(serverConfig());
    try {
      for (const db of [fresh.database, fresh.toolDatabase]) await root.query(`DROP DATABASE IF EXISTS \`${db}\``);
    } finally {
      await root.end();
    }
  });

  test('before it, the worker and start refuse in one line; --dry-run prints the SQL and changes nothing; then it migrates once', async () => {
    for (const args of [['worker'], ['start', '--id', `never-started-${name}`]]) {
      const refused = await cli.run(args);
      expectExit(refused, EXIT.schemaNotReady);
      expect(refused.stderr.trim().split('\n')).toEqual([
        `The tool's tables are missing in database ${fresh.toolDatabase} on ${fresh.host}:${fresh.port} (CP_SYNC_DATABASE); run: cp-sync migrate`,
      ]);
    }
    expect(await schemaExists(fresh.toolDatabase)).toBe(false);

    const dry = await cli.run(['migrate', '--dry-run']);
    expectExit(dry, 0);
    expect(dry.stdout).toContain(`Would create database ${fresh.toolDatabase}`);
    expect(dry.stdout).toContain(`Would apply migration 1: `);
    expect(dry.stdout).toContain(`CREATE TABLE IF NOT EXISTS \`${fresh.toolDatabase}\`.\`cp_sync_runs\``);
    expect(await schemaExists(fresh.toolDatabase)).toBe(false);

    const first = await cli.run(['migrate']);
    expectExit(first, 0);
    expect(first.stdout).toContain(`Created database ${fresh.toolDatabase}`);
    expect(first.stdout).toContain(`Applied migration 1: `);
    expect(first.stdout).toContain(`Schema version ${SCHEMA_VERSION} in ${fresh.toolDatabase}`);

    const again = await cli.json<{ from: number; to: number; applied: unknown[] }>(['migrate']);
    expectExit(again.run, 0);
    expect(again.value).toMatchObject({ from: SCHEMA_VERSION, to: SCHEMA_VERSION, applied: [] });

    // Nothing of the tool's went into ocpp-db.
    const root = await mysql.createConnection(serverConfig());
    try {
      const [ocppTables] = await root.query<RowDataPacket[]>('SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY 1', [fresh.database]);
      expect(ocppTables.map((r) => String(r.t))).toEqual(['charging_points', 'charging_stations']);
    } finally {
      await root.end();
    }
  }, 60_000);

  test('an OCPP database that does not exist (Install on a fresh server) stops the worker and start in one line naming the variable and the fix', async () => {
    const missing = `${name}_absent`;
    for (const args of [['worker'], ['start', '--id', `never-started-${name}`]]) {
      const refused = await cli.run(args, { OCPP_MYSQL_DATABASE: missing });
      expectExit(refused, EXIT.usage);
      expect(refused.stderr.trim().split('\n')).toEqual([
        `Configuration error: OCPP_MYSQL_DATABASE: database ${missing} does not exist on ${fresh.host}:${fresh.port}; expected the OCPP backend's database ` +
          '(for a local development or demo database, create it with its two tables: npm run schema)',
      ]);
    }
  });

  test('a schema newer than this cp-sync (a later version migrated it) stops the worker too, saying to upgrade', async () => {
    const root = await mysql.createConnection(serverConfig());
    try {
      await cli.run(['migrate']);
      await root.query(`INSERT INTO \`${fresh.toolDatabase}\`.cp_sync_schema_migrations VALUES (?, 'from the future', UTC_TIMESTAMP())`, [SCHEMA_VERSION + 1]);
      const refused = await cli.run(['worker']);
      expectExit(refused, EXIT.schemaNotReady);
      expect(refused.stderr).toContain(`at schema version ${SCHEMA_VERSION + 1}, newer than this cp-sync knows (${SCHEMA_VERSION}): upgrade cp-sync`);
    } finally {
      await root.query(`DELETE FROM \`${fresh.toolDatabase}\`.cp_sync_schema_migrations WHERE version > ?`, [SCHEMA_VERSION]);
      await root.end();
    }
  });

  test("with CP_SYNC_DATABASE = the ocpp-db database, cp-sync 0.1's tables there are renamed out of the way, then migrated", async () => {
    const single = `cps_e2e_one_${randomBytes(4).toString('hex')}`;
    const root = await mysql.createConnection(serverConfig());
    try {
      await createOcppSchema({ ...fresh, database: single, toolDatabase: single });
      await root.query(`CREATE TABLE \`${single}\`.cp_sync_runs (run_key VARCHAR(64) PRIMARY KEY, legacy INT)`);
      const migrated = await cli.run(['migrate'], { OCPP_MYSQL_DATABASE: single, CP_SYNC_DATABASE: single });
      expectExit(migrated, 0);
      expect(migrated.stdout).toContain("Renamed cp-sync 0.1's tables cp_sync_runs to cp_sync_v0_*");
      const [columns] = await root.query<RowDataPacket[]>(
        "SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND COLUMN_NAME IN ('legacy', 'broker_dropped_start') ORDER BY 1",
        [single],
      );
      expect(columns).toEqual([
        { t: 'cp_sync_runs', c: 'broker_dropped_start' },
        { t: 'cp_sync_v0_runs', c: 'legacy' },
      ]);
    } finally {
      await root.query(`DROP DATABASE IF EXISTS \`${single}\``);
      await root.end();
    }
  });
});

describe('the runtime user', () => {
  test("has exactly the README's grants: no DDL anywhere, no UPDATE or DELETE on ocpp-db (every e2e sync runs as this user)", async () => {
    const { db } = e2e;
    const user = String(e2e.env.OCPP_MYSQL_USER);
    const connection = await mysql.createConnection({ ...serverConfig(), user, password: String(e2e.env.OCPP_MYSQL_PASSWORD), database: db.config.database });
    try {
      const [grants] = await connection.query<RowDataPacket[]>('SHOW GRANTS');
      const shown = grants.map((row) => String(Object.values(row)[0])).filter((g) => !g.startsWith('GRANT USAGE'));
      expect(shown.sort()).toEqual(runtimeGrants(db.config, `\`${user}\`@\`%\``).sort());

      const t = tablesFor(db.config);
      for (const forbidden of [
        `CREATE TABLE \`${db.config.database}\`.e2e_forbidden (id INT)`,
        `CREATE TABLE \`${db.config.toolDatabase}\`.e2e_forbidden (id INT)`,
        `ALTER TABLE ${t.runs} ADD COLUMN e2e_forbidden INT`,
        `UPDATE ${t.points} SET name = name`,
        `DELETE FROM ${t.points}`,
        `UPDATE ${t.stations} SET name = name`,
      ]) {
        await expect(connection.query(forbidden)).rejects.toMatchObject({ code: expect.stringMatching(/DENIED/) });
      }
    } finally {
      await connection.end();
    }
  });
});

describe('cp-sync prune', () => {
  test("deletes a finished run's rows from every tool table and keeps a running run's", async () => {
    const { db } = e2e;
    await db.clearOcppTables();
    const station = await db.station({ station_id: 'PRUNE-0001', name: 'Prune' });
    await db.station({ station_id: 'PRUNE-SILENT', name: 'Silent' });

    const finished = await e2e.collect(e2e.account(), [report('PRUNE-0001', 2), report('PRUNE-NOBODY', 1), report('PRUNE-0001', 'bad')], { dryRun: true });
    expect(await finished.result()).toMatchObject({ phase: 'dry-run' });
    const running = await e2e.collect(e2e.account(), [report('PRUNE-0001', 2)]);
    await e2e.waitForPhase(running, 'awaiting-approval');

    const rowsOf = async (runKey: string): Promise<Record<string, number>> => {
      const counts: Record<string, number> = {};
      for (const table of ['runs', 'observations', 'rejections', 'planStations', 'notFound', 'silentStations'] as const) {
        const [[row]] = await db.pool.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${db.tables[table]} WHERE run_key = ?`, [runKey]);
        counts[table] = Number(row?.n);
      }
      return counts;
    };
    const finishedBefore = await rowsOf(finished.firstExecutionRunId);
    expect(finishedBefore).toEqual({ runs: 1, observations: 2, rejections: 1, planStations: 1, notFound: 1, silentStations: 1 });
    const runningBefore = await rowsOf(running.firstExecutionRunId);

    const cli = new CliRunner(() => ({ PATH: process.env.PATH, ...e2e.env, TEMPORAL_TASK_QUEUE: e2e.taskQueue }));
    try {
      // Runs of the other tests of this file are older than 1 ms too; each is judged by Temporal the same way.
      const dry = await cli.json<{ pruned: { runKey: string }[]; keptRunning: { runKey: string }[] }>(['prune', '--older-than', '1ms', '--dry-run']);
      expectExit(dry.run, 0);
      expect(dry.value.pruned.map((r) => r.runKey)).toContain(finished.firstExecutionRunId);
      expect(dry.value.keptRunning.map((r) => r.runKey)).toEqual([running.firstExecutionRunId]);
      expect(await rowsOf(finished.firstExecutionRunId)).toEqual(finishedBefore);

      const pruned = await cli.run(['prune', '--older-than', '1ms']);
      expectExit(pruned, 0);
      expect(pruned.stdout).toContain(`kept   ${running.workflowId} (run ${running.firstExecutionRunId}`);
      expect(pruned.stdout).toMatch(/Pruned \d+ finished runs started before .*; kept 1 running/);
      expect(await rowsOf(finished.firstExecutionRunId)).toEqual({ runs: 0, observations: 0, rejections: 0, planStations: 0, notFound: 0, silentStations: 0 });
      expect(await rowsOf(running.firstExecutionRunId)).toEqual(runningBefore);

      // The kept run still applies: its plan is intact.
      await e2e.approve(running);
      expect(await running.result()).toMatchObject({ phase: 'applied', created: 2 });
      expect(await db.livePointIds(station)).toEqual([1, 2]);
    } finally {
      cli.dispose();
    }
  }, 90_000);
});
