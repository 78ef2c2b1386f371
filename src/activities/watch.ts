/** The watch's activities (cp-sync watch), registered beside the sync's (activities/index.ts). */
import type { LogLevel, MqttConfig } from '../config';
import type { SyncDatabase } from '../db/tables';
import type { Log } from '../log';
import type { SyncMetrics } from '../metrics';
import { createWatchCollectActivity } from './watch-collect';
import { createEndWatchSessionsActivity, createWatchCycleActivity } from './watch-cycle';

export function createWatchActivities(deps: SyncDatabase & { mqtt: MqttConfig; log: Log; metrics: SyncMetrics; logLevel?: LogLevel }) {
  return {
    collectWatchCounts: createWatchCollectActivity(deps),
    planWatchCycle: createWatchCycleActivity(deps),
    endWatchSessions: createEndWatchSessionsActivity(deps),
  };
}

export type WatchActivities = ReturnType<typeof createWatchActivities>;
