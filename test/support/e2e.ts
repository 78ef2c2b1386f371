/**
 * The end-to-end harness: everything a test file needs to run real syncs against the real Temporal dev server,
 * MariaDB and Mosquitto, isolated from the other files that run at the same time:
 *   - its own database `cps_e2e_<random>` (ocpp-db schema), dropped afterwards, reached by the worker as its own
 *     MySQL user with a password (so that "the password never shows" is tested with a real one);
 *   - its own task queue and workflow ids, and an MQTT account (topic level 1) per test;
 *   - an in-process worker built by createSyncWorker (src/worker.ts), whose log lines are captured;
 *   - helpers to start a sync through the Temporal client and to wait for a phase through the `status` query.
 *
 * The services are those of `npm run stack:up`, found the same way: MySQL at OCPP_MYSQL_HOST/PORT as
 * OCPP_MYSQL_USER/PASSWORD (default root, no password, 127.0.0.1:3306), Temporal at TEMPORAL_ADDRESS (default
 * 127.0.0.1:7233, namespace default), Mosquitto at 127.0.0.1:1883.
 *
 * Use: `const e2e = useE2e('sync');` at the top of a test file; the fields are ready inside the tests.
 * A file with its own servers (e.g. TLS ones from private-mariadb.ts / private-mosquitto.ts, started in a beforeAll
 * registered before this call) passes them as `options`: they are read when the harness's beforeAll runs.
 */
import { randomBytes } from 'node:crypto';
import { Client, WorkflowIdConflictPolicy, type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogEntry, type Worker } from '@temporalio/worker';
import type { Env } from '../../src/config';
import type { Log, LogFields } from '../../src/log';
import { FINAL_PHASES, WORKFLOW_TYPE, type Phase, type SyncInput, type SyncStatus } from '../../src/shared';
import { createSyncWorker } from '../../src/worker';
import { approveSignal, rejectSignal, statusQuery } from '../../src/workflows/definitions';
import type { syncChargingPoints } from '../../src/workflows';
import { runtimeGrants } from '../../src/db/grants';
import { connectAsAdmin, E2eDatabase, serverConfig, type OcppTableLayout, type ServerConfig } from './e2e-db';
import { brokerUrl, Publisher, type Broker, type Report } from './e2e-mqtt';
import { registerSearchAttributes } from './search-attributes';
import { connectTracked, type TrackedConnection } from './tracked-connection';
import { queryUntil } from './wait';

export { Publisher, report } from './e2e-mqtt';
export type { Broker } from './e2e-mqtt';
export type { PointRow, StationRow } from './e2e-db';

export type SyncHandle = WorkflowHandleWithFirstExecutionRunId<typeof syncChargingPoints>;

export function temporalAddress(): string {
  return process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233';
}

/** A collection window long enough to connect and hear a few rounds of the publisher, short enough for the suite. */
export const WINDOW_MS = 2500;

export interface CapturedLine {
  level: 'info' | 'debug' | 'warn' | 'error';
  /** What the line is about, as LOG_FORMAT=json writes it. */
  fields?: LogFields;
  line: string;
}

export interface E2e {
  db: E2eDatabase;
  client: Client;
  taskQueue: string;
  /** The worker's environment (credentials included). */
  env: Env;
  /** The secret values in the worker's environment: they must never show in logs, history or output. */
  secrets: string[];
  /** Lines the worker's activities printed (the original tool's log lines), oldest first; emptied before each test. */
  lines: CapturedLine[];
  /** Messages of the Temporal SDK's own logger (warnings and errors), for diagnosis. */
  sdkLog: string[];
  /** A new MQTT account (topic level 1), unique to this file and call. */
  account(label?: string): string;
  /** A new workflow id, unique to this file and call. */
  workflowId(label?: string): string;
  /** A handle on a sync started elsewhere (e.g. by the CLI); it is terminated after the file if still running. */
  handle(workflowId: string): WorkflowHandle;
  /** Starts a sync on this file's task queue (or on `taskQueue`, served by a worker of the test's own). */
  start(input: Partial<SyncInput> & { account: string }, workflowId?: string, taskQueue?: string): Promise<SyncHandle>;
  /** Publishes `reports` on `account` while a sync collects; resolves once it has left the collecting phase. */
  collect(account: string, reports: Report[], input?: Partial<SyncInput>, raw?: { topic: string; payload: string }[]): Promise<SyncHandle>;
  /** Polls the `status` query every 200 ms until `ready` holds (30 s unless `timeoutMs`; see queryUntil). */
  statusWhen(handle: WorkflowHandle, what: string, ready: (status: SyncStatus) => boolean, timeoutMs?: number): Promise<SyncStatus>;
  /** Polls the `status` query until the phase is `phase`; fails at once on a different final phase. */
  waitForPhase(handle: WorkflowHandle, phase: Phase, timeoutMs?: number): Promise<SyncStatus>;
  status(handle: WorkflowHandle): Promise<SyncStatus>;
  approve(handle: WorkflowHandle, fingerprint?: string, by?: string): Promise<void>;
  reject(handle: WorkflowHandle, reason?: string): Promise<void>;
  /** The info and error lines (what an operator sees at LOG_LEVEL=info). */
  infoLines(): string[];
}

let runtimeInstalled = false;

/** The SDK's logger goes to an array (warnings and up) instead of the console, once per module registry. */
function installRuntime(sdkLog: string[]): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', (entry: LogEntry) => {
        sdkLog.push(`${entry.level} ${entry.message}${entry.meta ? ` ${JSON.stringify(entry.meta)}` : ''}`);
      }),
    });
  } catch {
    // Already installed in this process: keep the existing runtime.
  }
}

function random(bytes = 4): string {
  return randomBytes(bytes).toString('hex');
}

export interface E2eOptions {
  /** ocpp-db's tables in another layout (collation, integer charging_points.station_id). */
  layout?: OcppTableLayout;
  /** The database server and its administrator (default: the shared one, serverConfig()). */
  server?: () => ServerConfig;
  /** The broker the publisher uses (default: the shared Mosquitto, brokerUrl()). */
  broker?: () => Broker;
  /** Added to the worker's environment (e.g. CLOUD_HOST and CLOUD_TLS_* for `broker`). */
  workerEnv?: () => Env;
}

/** Registers beforeAll/beforeEach/afterAll hooks and returns the harness, ready inside the tests. */
export function useE2e(name: string, options: E2eOptions = {}): E2e {
  const id = `${name}-${random()}`;
  const taskQueue = `cps-e2e-${id}`;
  const mysqlUser = `cps_e2e_${random(3)}`;
  const mysqlPassword = `mysql-secret-${random(8)}`;
  const mqttPassword = `mqtt-secret-${random(8)}`;
  const mqttUser = `mqtt-user-${random(8)}`;
  const lines: CapturedLine[] = [];
  const sdkLog: string[] = [];
  const handles: WorkflowHandle[] = [];
  let counter = 0;

  let db: E2eDatabase | undefined;
  let server: ServerConfig | undefined;
  let client: Client | undefined;
  let tracked: TrackedConnection | undefined;
  let env: Env | undefined;
  let worker: Worker | undefined;
  let closeWorker: (() => Promise<void>) | undefined;
  let running: Promise<void> | undefined;
  let workerError: unknown;

  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`e2e harness: ${what} is not ready (use it inside a test, after beforeAll)`);
    return value;
  };

  const log: Log = {
    info: (line, fields) => lines.push({ level: 'info', line, fields }),
    debug: (line, fields) => lines.push({ level: 'debug', line, fields }),
    warn: (line, fields) => lines.push({ level: 'warn', line, fields }),
    error: (line, fields) => lines.push({ level: 'error', line, fields }),
  };

  beforeAll(async () => {
    installRuntime(sdkLog);
    server = options.server?.() ?? serverConfig();
    db = await E2eDatabase.create('cps_e2e', { layout: options.layout, server });
    const root = await connectAsAdmin(server);
    try {
      // The worker runs as the least-privileged user of the README's grants section: no DDL, no UPDATE or DELETE on ocpp-db.
      await root.query('CREATE USER ?@? IDENTIFIED BY ?', [mysqlUser, '%', mysqlPassword]);
      for (const grant of runtimeGrants(db.config, `'${mysqlUser}'@'%'`)) await root.query(grant);
    } finally {
      await root.end();
    }
    env = {
      CLOUD_HOST: brokerUrl(),
      CLOUD_CREDENTIALS: JSON.stringify({ username: mqttUser, password: mqttPassword }),
      ...db.env(),
      OCPP_MYSQL_USER: mysqlUser,
      OCPP_MYSQL_PASSWORD: mysqlPassword,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_NAMESPACE: 'default',
      ...options.workerEnv?.(),
    };
    // Before the worker: it refuses to start in a namespace without them.
    tracked = await connectTracked(temporalAddress());
    const { connection } = tracked;
    await registerSearchAttributes(connection);
    const built = await createSyncWorker({ env, taskQueue, log });
    worker = built.worker;
    closeWorker = built.close;
    running = worker.run().catch((err: unknown) => {
      workerError = err;
    });
    client = new Client({ connection, namespace: 'default' });
  }, 90_000);

  beforeEach(() => {
    lines.length = 0;
    if (workerError !== undefined) throw new Error(`the e2e worker stopped: ${describeError(workerError)}`);
  });

  afterAll(async () => {
    // Runs left waiting (a failed test) would wait for approval for minutes: end them.
    for (const handle of handles) {
      try {
        const { status } = await handle.describe();
        if (status.name === 'RUNNING') await handle.terminate('e2e test file finished');
      } catch {
        // already gone
      }
    }
    if (worker && worker.getState() === 'RUNNING') worker.shutdown();
    await running;
    await closeWorker?.();
    await tracked?.close();
    const root = await connectAsAdmin(server);
    try {
      await root.query('DROP USER IF EXISTS ?@?', [mysqlUser, '%']);
    } finally {
      await root.end();
    }
    await db?.drop();
  }, 60_000);

  const harness: E2e = {
    get db() {
      return ready(db, 'the database');
    },
    get client() {
      return ready(client, 'the Temporal client');
    },
    get env() {
      return ready(env, 'the worker environment');
    },
    taskQueue,
    secrets: [mysqlPassword, mqttPassword, mqttUser],
    lines,
    sdkLog,
    account(label = 'acc') {
      return `e2e${label}${id.replace(/[^a-z0-9]/gi, '')}n${++counter}`;
    },
    workflowId(label = 'sync') {
      return `cps-e2e-${id}-${label}-${++counter}`;
    },
    handle(workflowId) {
      const handle = harness.client.workflow.getHandle(workflowId);
      handles.push(handle);
      return handle;
    },
    async start(input, workflowId, queue = taskQueue) {
      const handle = await harness.client.workflow.start<typeof syncChargingPoints>(WORKFLOW_TYPE, {
        taskQueue: queue,
        workflowId: workflowId ?? harness.workflowId(),
        args: [{ collectorDurationMs: WINDOW_MS, approvalTimeoutMs: 10 * 60_000, maxConnectors: 16, ...input }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
      });
      handles.push(handle);
      return handle;
    },
    async collect(account, reports, input = {}, raw = []) {
      const publisher = await Publisher.start(account, reports, { raw, broker: options.broker?.() });
      try {
        const handle = await harness.start({ ...input, account });
        await harness.statusWhen(handle, 'the collection over', (s) => s.phase !== 'collecting');
        if (publisher.sent < 3) throw new Error(`the publisher sent only ${publisher.sent} rounds during the window`);
        return handle;
      } finally {
        await publisher.stop();
      }
    },
    statusWhen(handle, what, ready, timeoutMs = 30_000) {
      return queryUntil(handle, statusQuery, `sync ${handle.workflowId}: ${what}`, ready, { timeoutMs, intervalMs: 200, describe: whereItIs });
    },
    async waitForPhase(handle, phase, timeoutMs = 30_000) {
      return harness.statusWhen(
        handle,
        `phase ${phase}`,
        (s) => {
          if (s.phase === phase) return true;
          if (FINAL_PHASES.includes(s.phase)) {
            throw new Error(`sync ${handle.workflowId} ended as ${s.phase}, not ${phase}: ${JSON.stringify({ error: s.error, failedDuring: s.failedDuring })}`);
          }
          return false;
        },
        timeoutMs,
      );
    },
    status(handle) {
      return handle.query(statusQuery);
    },
    approve(handle, fingerprint, by = 'e2e-operator') {
      return handle.signal(approveSignal, { fingerprint, by, comment: 'approved by the e2e test' });
    },
    reject(handle, reason = 'rejected by the e2e test') {
      return handle.signal(rejectSignal, { reason, by: 'e2e-operator' });
    },
    infoLines() {
      return lines.filter((l) => l.level !== 'debug').map((l) => l.line);
    },
  };
  return harness;
}

/** The status fields that say where a sync is: what a wait that ran out names. */
function whereItIs({ phase, error, retry, refusedApprovals, refusedRejections }: SyncStatus): string {
  return JSON.stringify({ phase, error, retry, refusedApprovals, refusedRejections });
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : JSON.stringify(err);
}
