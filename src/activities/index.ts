/**
 * The activities, built from their dependencies (connections and configuration live in the worker, never in
 * workflow input). The workflow imports only the type.
 */
import type { LogLevel, MqttConfig } from '../config';
import type { Pool } from '../db/pool';
import type { Tables } from '../db/tables';
import type { Log } from '../log';
import type { SyncMetrics } from '../metrics';
import { ACTIVITY } from '../shared';
import { createApplyActivity } from './apply';
import { createCollectActivity } from './collect';
import { createDiffActivity } from './diff';
import { createNotifyActivity } from './notify';
import { createWatchActivities } from './watch';

export interface ActivityDeps {
  pool: Pool;
  /** The schema-qualified tables: ocpp-db's and the tool's own (CP_SYNC_DATABASE). */
  tables: Tables;
  mqtt: MqttConfig;
  log: Log;
  metrics: SyncMetrics;
  /** LOG_LEVEL: at `debug` the collector also reports every message. */
  logLevel?: LogLevel;
  /** The worker's TEST_DEVICE_ID, if any (see createDiffActivity). */
  workerTestDeviceId?: string;
  /** PLAN_DURING_WINDOW: a windowed sync's plan is built while its window is open (store/window-planner.ts). */
  planDuringWindow?: boolean;
  /** NOTIFY_WEBHOOK_URL (secret) and where the Web UI shows a run, for notifications. */
  notify: { webhookUrl?: string; ui: { uiUrl: string; namespace: string } };
}

function createSyncActivities(deps: ActivityDeps) {
  return {
    [ACTIVITY.collect]: createCollectActivity(deps),
    [ACTIVITY.plan]: createDiffActivity(deps),
    [ACTIVITY.apply]: createApplyActivity(deps),
    [ACTIVITY.notify]: createNotifyActivity({ ...deps.notify, log: deps.log }),
  };
}

/** Every activity a worker runs: the sync's and the watch's (`cp-sync watch`). */
export function createActivities(deps: ActivityDeps) {
  return { ...createSyncActivities(deps), ...createWatchActivities(deps) };
}

export type SyncActivities = ReturnType<typeof createSyncActivities>;
export type { WatchActivities } from './watch';
export type { CollectInput } from './collect';
export type { DiffInput } from './diff';
export type { ApplyInput } from './apply';
