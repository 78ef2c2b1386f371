/**
 * The worker process's Temporal Runtime, installed once before any connection: the SDK's own log lines (its
 * TypeScript side, workflow `log` calls and the forwarded Rust core lines) go through the worker's log writer, in
 * the same format as the operator lines; with METRICS_BIND_ADDRESS, the core serves Prometheus metrics there —
 * the SDK's and the sync's own (metrics.ts), on one endpoint.
 */
import { LogTimestamp, Runtime, type LogLevel as SdkLogLevel, type LogMetadata, type Logger } from '@temporalio/worker';
import type { ObservabilityConfig } from '../config';
import type { LogContext, LogRecord, RecordLevel } from '../log';
import { HISTOGRAM_BUCKETS } from '../metrics';

/** SDK metadata that repeats what every line of the worker shares, or is opaque: kept in JSON, left out of text. */
const JSON_ONLY = ['namespace', 'taskQueue', 'workflowType', 'sdkComponent', 'activityId', 'isLocal', 'taskToken', 'workflowRunId', 'activityRunId'];

/** Metadata that becomes the line's context (workflowId, runId, activity, attempt). */
const CONTEXT_KEYS = ['workflowId', 'runId', 'activityType', 'attempt'];

function contextOf(meta: LogMetadata): LogContext {
  const pick = (key: string): string | undefined => (typeof meta[key] === 'string' ? meta[key] : undefined);
  return {
    workflowId: pick('workflowId'),
    runId: pick('runId') ?? pick('workflowRunId'),
    activity: pick('activityType'),
    attempt: typeof meta.attempt === 'number' ? meta.attempt : undefined,
  };
}

/** Temporal's Logger interface over the worker's log writer. */
export class RuntimeLogger implements Logger {
  constructor(private readonly write: (record: LogRecord) => void) {}

  log(level: SdkLogLevel, message: string, meta: LogMetadata = {}): void {
    const { [LogTimestamp]: nanos, ...rest } = meta as LogMetadata & { [LogTimestamp]?: bigint };
    const fields: Record<string, unknown> = {};
    const jsonOnly: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) {
      if (CONTEXT_KEYS.includes(key)) continue;
      (JSON_ONLY.includes(key) ? jsonOnly : fields)[key] = value;
    }
    this.write({
      time: typeof nanos === 'bigint' ? new Date(Number(nanos / 1_000_000n)) : new Date(),
      level: level.toLowerCase() as RecordLevel,
      msg: message,
      context: contextOf(rest),
      fields,
      jsonOnly,
    });
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** Installs the process's Runtime; call before the first connection (the SDK creates a default one otherwise). */
export function installWorkerRuntime(config: ObservabilityConfig, write: (record: LogRecord) => void): Runtime {
  // The core's DEBUG lines dump whole activations (kilobytes each): LOG_LEVEL=debug is for the sync's own lines.
  const coreLevel = config.logLevel === 'debug' ? 'INFO' : 'WARN';
  return Runtime.install({
    logger: new RuntimeLogger(write),
    telemetryOptions: {
      logging: { filter: { core: coreLevel, other: 'WARN' }, forward: {} },
      metrics:
        config.metricsBindAddress === undefined
          ? undefined
          : {
              prometheus: {
                bindAddress: config.metricsBindAddress,
                // Prometheus conventions: counters end in _total, durations are in seconds and say so (_seconds).
                countersTotalSuffix: true,
                unitSuffix: true,
                useSecondsForDurations: true,
                histogramBucketOverrides: HISTOGRAM_BUCKETS,
              },
            },
    },
  });
}
