/**
 * Records the workflow histories that test/workflow/replay.test.ts replays, so that a change to the workflow
 * code that would break the runs in flight (non-determinism) fails a test instead of a production run.
 *
 *   npm run build && npm run record-history
 *
 * Needs the local stack (npm run stack:up): it creates a throw-away database (dropped afterwards) on
 * OCPP_MYSQL_HOST/PORT as OCPP_MYSQL_USER (default root@127.0.0.1:3306), publishes a few connector counts on
 * CLOUD_HOST (default mqtt://127.0.0.1:1883), runs real syncs against TEMPORAL_ADDRESS (default 127.0.0.1:7233)
 * with an in-process worker on a task queue of its own, and writes each run's history to
 * test/fixtures/histories/<name>.json (the History message's toJSON() form; load it with History.fromObject).
 * Only the environment is read (not .env): the recording never depends on a developer's settings.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, WorkflowIdConflictPolicy, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import mqtt from 'mqtt';
import mysql from 'mysql2/promise';
import type { DatabaseConfig, Env } from '../../src/config';
import { migrate } from '../../src/db/migrator';
import { deviceTopic } from '../../src/domain/topic';
import { createOcppSchema } from '../demo/ocpp-schema';
import { silentLog } from '../../src/log';
import { WORKFLOW_TYPE, type SyncInput, type SyncStatus } from '../../src/shared';
import { createSyncWorker } from '../../src/worker';
import { approveSignal, approveUpdate, rejectUpdate, statusQuery } from '../../src/workflows/definitions';
import type { syncChargingPoints } from '../../src/workflows';
import { repoRoot } from '../repo-root';

export const HISTORIES_DIR = join(repoRoot(), 'test', 'fixtures', 'histories');

type SyncHandle = WorkflowHandleWithFirstExecutionRunId<typeof syncChargingPoints>;

const env = (name: string, fallback: string): string => process.env[name] || fallback;

interface Scenario {
  /** File name under test/fixtures/histories, without .json. */
  name: string;
  /** What the operator does once the plan waits for approval. */
  decide(handle: SyncHandle, status: SyncStatus): Promise<void>;
  expectedPhase: SyncStatus['phase'];
  /** Added to the run's input. */
  input?: Partial<SyncInput>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'sync-approved',
    expectedPhase: 'applied',
    decide: async (handle, status) => {
      await handle.executeUpdate(approveUpdate, { args: [{ fingerprint: status.plan!.fingerprint, by: 'recorder', comment: 'recorded for the replay test' }] });
    },
  },
  {
    name: 'sync-stale-approval-then-rejected',
    expectedPhase: 'rejected',
    async decide(handle) {
      // The signal path (refusal recorded in the status), then a rejection through the Update.
      await handle.signal(approveSignal, { fingerprint: '0000000000000000', by: 'recorder' });
      await waitFor(handle, (s) => s.refusedApprovals.length > 0);
      await handle.executeUpdate(rejectUpdate, { args: [{ reason: 'recorded for the replay test', by: 'recorder' }] });
    },
  },
  {
    // A plan over its auto-approve limit waits; the awaiting-approval and applied notifications run beside it.
    name: 'sync-over-auto-approve-limit-notified',
    expectedPhase: 'applied',
    input: { autoApproveMaxPoints: 1 },
    decide: (handle, status) => handle.signal(approveSignal, { fingerprint: status.plan!.fingerprint, by: 'recorder', comment: 'recorded for the replay test' }),
  },
];

async function waitFor(handle: SyncHandle, done: (status: SyncStatus) => boolean, timeoutMs = 30_000): Promise<SyncStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await handle.query(statusQuery).catch(() => undefined);
    if (status && done(status)) return status;
    if (Date.now() > deadline) throw new Error(`${handle.workflowId}: still ${status?.phase ?? 'not started'} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Before each scenario, a small fleet: one station missing points 2 and 3, one in sync, and a device without a station. */
async function seed(config: DatabaseConfig): Promise<void> {
  const connection = await mysql.createConnection({ ...config, timezone: 'Z' });
  try {
    await connection.query('DELETE FROM charging_points');
    await connection.query('DELETE FROM charging_stations');
    const created = new Date('2024-01-01T00:00:00Z');
    await connection.query('INSERT INTO charging_stations (id, name, station_id, created, updated) VALUES ?', [
      [
        [1001, 'Recorded station', 'REC-0001', created, created],
        [1002, 'In sync', 'REC-0002', created, created],
      ],
    ]);
    await connection.query('INSERT INTO charging_points (id, name, point_id, station_id, created, updated) VALUES ?', [
      [
        [5001, 'Recorded station', 1, '1001', created, created],
        [5002, 'In sync', 1, '1002', created, created],
      ],
    ]);
  } finally {
    await connection.end();
  }
}

async function main(): Promise<void> {
  const suffix = randomBytes(4).toString('hex');
  const database: DatabaseConfig = {
    host: env('OCPP_MYSQL_HOST', '127.0.0.1'),
    port: Number(env('OCPP_MYSQL_PORT', '3306')),
    user: env('OCPP_MYSQL_USER', 'root'),
    password: process.env.OCPP_MYSQL_PASSWORD ?? '',
    database: `cps_record_${suffix}`,
    toolDatabase: `cps_record_${suffix}`,
  };
  const workerEnv: Env = {
    CLOUD_HOST: env('CLOUD_HOST', 'mqtt://127.0.0.1:1883'),
    OCPP_MYSQL_HOST: database.host,
    OCPP_MYSQL_PORT: String(database.port),
    OCPP_MYSQL_DATABASE: database.database,
    CP_SYNC_DATABASE: database.toolDatabase,
    OCPP_MYSQL_USER: database.user,
    OCPP_MYSQL_PASSWORD: database.password,
    TEMPORAL_ADDRESS: env('TEMPORAL_ADDRESS', '127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: env('TEMPORAL_NAMESPACE', 'default'),
  };
  const taskQueue = `cps-record-${suffix}`;
  const account = `record${suffix}`;

  Runtime.install({ logger: new DefaultLogger('WARN') });
  await createOcppSchema(database);
  await migrate(database);
  try {
    const { worker, close } = await createSyncWorker({ env: workerEnv, taskQueue, log: silentLog });
    const client = new Client({ connection: await Connection.connect({ address: workerEnv.TEMPORAL_ADDRESS! }), namespace: workerEnv.TEMPORAL_NAMESPACE });
    const publisher = await mqtt.connectAsync(workerEnv.CLOUD_HOST!);
    const publish = (): void => {
      for (const [device, count] of [['REC-0001', '3'], ['REC-0002', '1'], ['REC-UNKNOWN', '2']] as const) {
        publisher.publish(deviceTopic(account, device), count, { qos: 1 });
      }
    };
    const ticker = setInterval(publish, 200);
    try {
      await worker.runUntil(async () => {
        mkdirSync(HISTORIES_DIR, { recursive: true });
        for (const scenario of SCENARIOS) {
          await seed(database);
          const input: SyncInput = { collectorDurationMs: 1500, approvalTimeoutMs: 10 * 60_000, maxConnectors: 16, account, ...scenario.input };
          const handle = await client.workflow.start<typeof syncChargingPoints>(WORKFLOW_TYPE, {
            taskQueue,
            workflowId: `cps-record-${scenario.name}-${suffix}`,
            args: [input],
            workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
          });
          const waiting = await waitFor(handle, (s) => s.phase === 'awaiting-approval' || s.phase === 'failed' || s.phase === 'nothing-to-do');
          if (waiting.phase !== 'awaiting-approval') throw new Error(`${scenario.name}: the run ended as ${waiting.phase} (${waiting.error ?? 'no error'})`);
          await scenario.decide(handle, waiting);
          const result = await handle.result();
          if (result.phase !== scenario.expectedPhase) throw new Error(`${scenario.name}: ended as ${result.phase}, expected ${scenario.expectedPhase}`);
          const history = temporal.api.history.v1.History.create(await handle.fetchHistory());
          const file = join(HISTORIES_DIR, `${scenario.name}.json`);
          writeFileSync(file, `${JSON.stringify(history.toJSON(), null, 1)}\n`);
          process.stdout.write(`${scenario.name}: ${result.phase}, ${history.events?.length ?? 0} events → ${file}\n`);
        }
      });
    } finally {
      clearInterval(ticker);
      await publisher.endAsync();
      await client.connection.close();
      await close();
    }
  } finally {
    const root = await mysql.createConnection({ host: database.host, port: database.port, user: database.user, password: database.password });
    await root.query(`DROP DATABASE IF EXISTS \`${database.database}\``);
    await root.end();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
