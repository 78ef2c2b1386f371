/**
 * The worker: runs the workflow and the activities on the task queue. Credentials (CLOUD_CREDENTIALS,
 * OCPP_MYSQL_PASSWORD) are read here, from the worker's environment, and never enter workflow input or history.
 */
import { Worker } from '@temporalio/worker';
import { createActivities } from './activities';
import { loadDatabaseConfig, loadLogLevel, loadMqttConfig, loadSyncDefaults, loadTemporalConfig, type Env } from './config';
import { databaseTlsProblem } from './db/errors';
import { createPool } from './db/pool';
import { assertSchemaReady } from './db/migrator';
import { describeLayout, readOcppLayout } from './db/ocpp-layout';
import { tablesFor } from './db/tables';
import { createConsoleLog, type Log } from './log';
import { connectWorker } from './temporal/connection';

export interface WorkerOptions {
  env: Env;
  log?: Log;
  /** Overrides TEMPORAL_TASK_QUEUE (tests use one queue each). */
  taskQueue?: string;
}

export async function createSyncWorker({ env, log, taskQueue }: WorkerOptions): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const temporal = loadTemporalConfig(env);
  const mqtt = loadMqttConfig(env);
  const database = loadDatabaseConfig(env);
  const { testDeviceId: workerTestDeviceId } = loadSyncDefaults(env);
  const logLevel = loadLogLevel(env);
  const output = log ?? createConsoleLog(logLevel);

  const pool = createPool(database);
  const tables = tablesFor(database);
  try {
    // The first connection: a wrong TLS setting stops the worker here, before it polls, with what to set.
    // The worker never creates or alters a table: `cp-sync migrate` does, once, with its own rights.
    await assertSchemaReady(pool, database).catch((err: unknown) => {
      const tlsProblem = databaseTlsProblem(err, database.tls ?? 'off');
      if (tlsProblem === undefined) throw err;
      throw new Error(`database ${database.host}:${database.port}: ${tlsProblem}`);
    });
    const layout = await readOcppLayout(pool, database.database);
    output.info(`Database ${database.database}: ${describeLayout(layout)}; the tool's tables in ${database.toolDatabase}`);
    const connection = await connectWorker(temporal);
    const worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue: taskQueue ?? temporal.taskQueue,
      workflowsPath: require.resolve('./workflows'),
      activities: createActivities({ pool, tables, mqtt, log: output, logLevel, workerTestDeviceId }),
      // Heartbeats carry the window's cancellation; send them often enough that the window closes on time.
      maxHeartbeatThrottleInterval: '1s',
      defaultHeartbeatThrottleInterval: '1s',
      // When this worker dies, the run's next workflow task (the window's end, a finished apply) waits this long on
      // its sticky queue before another worker gets it (default 10 s).
      stickyQueueScheduleToStartTimeout: '3s',
    });
    return {
      worker,
      close: async () => {
        await connection.close();
        await pool.end();
      },
    };
  } catch (err) {
    await pool.end();
    throw err;
  }
}

/** `cp-sync worker`: runs until SIGINT/SIGTERM, then finishes the tasks in hand. */
export async function runWorker(env: Env, log?: Log): Promise<void> {
  const { worker, close } = await createSyncWorker({ env, log });
  const output = log ?? createConsoleLog(loadLogLevel(env));
  output.info(`Worker listening on task queue ${worker.options.taskQueue} (namespace ${worker.options.namespace})`);
  try {
    await worker.run();
  } finally {
    await close();
  }
}
