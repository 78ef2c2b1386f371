/**
 * The worker: runs the workflow and the activities on the task queue. Credentials (CLOUD_CREDENTIALS,
 * OCPP_MYSQL_PASSWORD) are read here, from the worker's environment, and never enter workflow input or history.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflowCode, Runtime, Worker, type LogLevel as SdkLogLevel, type LogMetadata, type Logger, type NativeConnection, type WorkflowBundleOption } from '@temporalio/worker';
import { createActivities } from './activities';
import { activityLogContext, attemptMetrics } from './activities/observability';
import {
  loadDatabaseConfig,
  loadLogLevel,
  loadMqttConfig,
  loadNotifyWebhookUrl,
  loadObservabilityConfig,
  loadPlanDuringWindow,
  loadSyncDefaults,
  loadTemporalConfig,
  secretValues,
  type Env,
} from './config';
import { databaseStartError } from './db/errors';
import { probeBroker } from './mqtt/broker-probe';
import { createPool } from './db/pool';
import { assertSchemaReady } from './db/migrator';
import { assertSearchAttributes } from './temporal/search-attributes';
import { SEARCH_ATTRIBUTES } from './workflows/visibility';
import { describeLayout, readOcppLayout } from './db/ocpp-layout';
import { tablesFor } from './db/tables';
import { createConsoleLog, createLogWriter, type Log } from './log';
import { createSyncMetrics } from './metrics';
import { runMetricsSinks } from './run-metrics';
import { connectWorker } from './temporal/connection';
import { installWorkerRuntime } from './temporal/runtime';

/** The workflow code bundled at build time (tools/build/bundle-workflows.ts), beside the compiled worker. */
export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

export interface WorkerOptions {
  env: Env;
  log?: Log;
  /** Overrides TEMPORAL_TASK_QUEUE (tests use one queue each). */
  taskQueue?: string;
}

/** The worker's secrets, for the log's redaction. */
function workerSecrets(env: Env): string[] {
  return secretValues({ mqtt: loadMqttConfig(env), database: loadDatabaseConfig(env), temporal: loadTemporalConfig(env) });
}

/** The operator lines' log, formatted as LOG_FORMAT says, each line with the run of the activity that writes it. */
export function createWorkerLog(env: Env): Log {
  const { logLevel, logFormat } = loadObservabilityConfig(env);
  return createConsoleLog({ level: logLevel, format: logFormat, secrets: workerSecrets(env), context: activityLogContext });
}

/** Webpack's report is for whoever debugs the bundle: at debug, not in every start's output. */
class BundlerLogger implements Logger {
  constructor(private readonly logger: Logger) {}
  log(level: SdkLogLevel, message: string, meta?: LogMetadata): void {
    this.logger.log(level === 'ERROR' ? 'ERROR' : 'DEBUG', message, meta);
  }
  trace = (message: string, meta?: LogMetadata): void => this.log('TRACE', message, meta);
  debug = (message: string, meta?: LogMetadata): void => this.log('DEBUG', message, meta);
  info = (message: string, meta?: LogMetadata): void => this.log('INFO', message, meta);
  warn = (message: string, meta?: LogMetadata): void => this.log('WARN', message, meta);
  error = (message: string, meta?: LogMetadata): void => this.log('ERROR', message, meta);
}

/** The bundle built with the product; when running from sources (tests), bundled now, quietly. */
async function workflowCode(): Promise<WorkflowBundleOption> {
  const prebuilt = join(__dirname, WORKFLOW_BUNDLE_FILE);
  if (existsSync(prebuilt)) return { codePath: prebuilt };
  return bundleWorkflowCode({ workflowsPath: require.resolve('./workflows'), logger: new BundlerLogger(Runtime.instance().logger) });
}

export async function createSyncWorker({ env, log, taskQueue }: WorkerOptions): Promise<{ worker: Worker; close: () => Promise<void> }> {
  const temporal = loadTemporalConfig(env);
  const mqtt = loadMqttConfig(env);
  const database = loadDatabaseConfig(env);
  // Only TEST_DEVICE_ID concerns the worker: the other sync defaults are the CLI's, and a bad one must not stop it.
  // MAX_SILENT_STATIONS is the exception: a worker's env that sets it wrongly says so at start (the CLI applies it).
  const { testDeviceId: workerTestDeviceId } = loadSyncDefaults({ TEST_DEVICE_ID: env.TEST_DEVICE_ID, MAX_SILENT_STATIONS: env.MAX_SILENT_STATIONS });
  const webhookUrl = loadNotifyWebhookUrl(env);
  const planDuringWindow = loadPlanDuringWindow(env);
  const logLevel = loadLogLevel(env);
  const output = log ?? createWorkerLog(env);
  const metrics = createSyncMetrics(Runtime.instance().metricMeter);

  const pool = createPool(database);
  const tables = tablesFor(database);
  let connection: NativeConnection | undefined;
  try {
    // The first connection: an unreachable server, a refused login or a wrong TLS setting stops the worker here,
    // before it polls, naming what to set. The worker never creates or alters a table: `cp-sync migrate` does.
    const layout = await assertSchemaReady(pool, database)
      .then(() => readOcppLayout(pool, database.database))
      .catch((err: unknown) => {
        throw databaseStartError(err, database);
      });
    output.info(`Database ${database.database}: ${describeLayout(layout)}; the tool's tables in ${database.toolDatabase}`);
    output.info(webhookUrl === undefined ? 'Notifications: off (NOTIFY_WEBHOOK_URL not set)' : 'Notifications: on (NOTIFY_WEBHOOK_URL)');
    if (planDuringWindow) output.info("Plan during the window: on (PLAN_DURING_WINDOW): a windowed sync's plan is built while its window is open");
    connection = await connectWorker(temporal);
    await assertSearchAttributes(connection, temporal.namespace, SEARCH_ATTRIBUTES);
    const worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue: taskQueue ?? temporal.taskQueue,
      workflowBundle: await workflowCode(),
      activities: createActivities({ pool, tables, mqtt, log: output, metrics, logLevel, workerTestDeviceId, planDuringWindow, notify: { webhookUrl, ui: temporal } }),
      interceptors: { activity: [attemptMetrics(metrics)] },
      sinks: runMetricsSinks(Runtime.instance().metricMeter),
      // Heartbeats carry the window's cancellation; send them often enough that the window closes on time.
      maxHeartbeatThrottleInterval: '1s',
      defaultHeartbeatThrottleInterval: '1s',
      // When this worker dies, the run's next workflow task (the window's end, a finished apply) waits this long on
      // its sticky queue before another worker gets it (default 10 s).
      stickyQueueScheduleToStartTimeout: '3s',
    });
    const opened = connection;
    return {
      worker,
      close: async () => {
        await opened.close();
        await pool.end();
      },
    };
  } catch (err) {
    // Whatever failed (the search attributes, the bundle, Worker.create), nothing opened here stays open.
    await connection?.close().catch(() => undefined);
    await pool.end();
    throw err;
  }
}

/**
 * `cp-sync worker`: installs the process's Temporal Runtime (the SDK's lines in the worker's log format, metrics on
 * METRICS_BIND_ADDRESS), then runs until SIGINT/SIGTERM and finishes the tasks in hand.
 */
export async function runWorker(env: Env): Promise<void> {
  const observability = loadObservabilityConfig(env);
  installWorkerRuntime(observability, createLogWriter({ level: observability.logLevel, format: observability.logFormat, secrets: workerSecrets(env) }));
  const output = createWorkerLog(env);
  // The broker is probed as the database and Temporal are (in createSyncWorker): a wrong CLOUD_HOST or
  // CLOUD_CREDENTIALS stops the worker at start rather than failing each run's collection.
  const broker = await probeBroker(loadMqttConfig(env));
  const { worker, close } = await createSyncWorker({ env, log: output });
  output.info(broker);
  const metricsNote = observability.metricsBindAddress !== undefined ? `; metrics on http://${observability.metricsBindAddress}/metrics` : '';
  output.info(`Worker listening on task queue ${worker.options.taskQueue} (namespace ${worker.options.namespace})${metricsNote}`);
  try {
    await worker.run();
  } finally {
    await close();
  }
}
