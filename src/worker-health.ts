/**
 * `cp-sync worker --check`: can this host's worker do its work? For container healthchecks: the MQTT broker accepts
 * a connection with CLOUD_HOST and CLOUD_CREDENTIALS (a worker whose collections cannot connect is not healthy), and
 * the Temporal server has seen a worker of this host poll TEMPORAL_TASK_QUEUE (workflow and activity tasks): one whose
 * identity (`<pid>@<host name>`, the SDK's default) names this host, seen within the long-poll interval.
 */
import { hostname } from 'node:os';
import { temporal } from '@temporalio/proto';
import { tsToMs } from '@temporalio/common/lib/time';
import { loadMqttConfig, loadTemporalConfig, type Env, type TemporalConfig } from './config';
import { probeBroker } from './mqtt/broker-probe';
import { connectClient } from './temporal/connection';

/** Server long polls last about a minute; a poller seen longer ago than this has stopped. */
export const POLLER_FRESH_MS = 150_000;

export interface PollerSeen {
  identity: string;
  lastAccessMs: number;
}

/** Undefined when a poller of `host` was seen recently; otherwise why not. */
export function pollerProblem(pollers: PollerSeen[], host: string, nowMs: number): string | undefined {
  const mine = pollers.filter((p) => p.identity.endsWith(`@${host}`));
  if (mine.length === 0) return `no worker of host ${host} among the ${pollers.length} pollers`;
  const lastMs = Math.max(...mine.map((p) => p.lastAccessMs));
  const ageMs = nowMs - lastMs;
  return ageMs > POLLER_FRESH_MS ? `the worker of host ${host} last polled ${Math.round(ageMs / 1000)} s ago` : undefined;
}

const TYPES = [
  ['workflow', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW],
  ['activity', temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY],
] as const;

/** Resolves with a one-line verdict when healthy; rejects with the reason otherwise. */
export async function checkWorker(config: TemporalConfig, host: string = hostname()): Promise<string> {
  const client = await connectClient(config);
  try {
    for (const [name, taskQueueType] of TYPES) {
      const { pollers } = await client.workflowService.describeTaskQueue({ namespace: config.namespace, taskQueue: { name: config.taskQueue }, taskQueueType });
      const seen = (pollers ?? []).map((p) => ({ identity: p.identity ?? '', lastAccessMs: tsToMs(p.lastAccessTime) }));
      const problem = pollerProblem(seen, host, Date.now());
      if (problem !== undefined) throw new Error(`worker check: task queue ${config.taskQueue} (${name} tasks): ${problem}`);
    }
    return `worker check: a worker of host ${host} polls task queue ${config.taskQueue} (namespace ${config.namespace})`;
  } finally {
    await client.connection.close();
  }
}

/** The whole check: the broker first (it fails with the setting to fix), then the pollers; one line each when healthy. */
export async function checkWorkerHealth(env: Env, host: string = hostname()): Promise<string[]> {
  const temporalConfig = loadTemporalConfig(env);
  const broker = await probeBroker(loadMqttConfig(env));
  return [broker, await checkWorker(temporalConfig, host)];
}
