/**
 * One cycle of the watch: claim the devices that changed since the last cycle and plan them (store/watch-planner.ts);
 * and, when the watch stops, end its collectors' MQTT sessions on the broker.
 */
import type { MqttConfig } from '../config';
import type { SyncDatabase } from '../db/tables';
import { WatchDeviceStore } from '../store/watch-devices';
import { planCycle } from '../store/watch-planner';
import { cycleRunKey, watchKeyOf, watchSessionKey } from '../domain/watch-keys';
import type { Log } from '../log';
import type { SyncMetrics } from '../metrics';
import { endPersistentSession } from '../mqtt/end-session';
import { ACTIVITY } from '../shared';
import type { WatchCycleInput, WatchCycleOutcome, WatchSilence } from '../watch-shared';
import { runAttempt, type AttemptHooks, type AttemptTimings } from './attempts';

/** The silence guard's counts read the whole fleet's index: a worker counts them again at most this often per watch. */
export const SILENCE_COUNT_TTL_MS = 60_000;

export function createWatchCycleActivity(deps: SyncDatabase & { log: Log; metrics: SyncMetrics; timings?: AttemptTimings }, now: () => number = Date.now) {
  const store = new WatchDeviceStore(deps);
  const counted = new Map<string, { atMs: number; silence: WatchSilence }>();
  const silenceOf = async (watchKey: string, since: string): Promise<WatchSilence> => {
    const cached = counted.get(watchKey);
    if (cached && now() - cached.atMs < SILENCE_COUNT_TTL_MS) return cached.silence;
    const silence = await store.silence(watchKey, new Date(since));
    counted.set(watchKey, { atMs: now(), silence });
    return silence;
  };
  return async function planWatchCycle(input: WatchCycleInput): Promise<WatchCycleOutcome> {
    const { log } = deps;
    const watchKey = watchKeyOf(input.workflowId);
    // Each step done is a sign of life; within a step, a statement of the attempt running (activities/liveness.ts).
    let stepsDone = 0;
    const step = <T>(done: T): T => {
      stepsDone++;
      return done;
    };
    const hooks: AttemptHooks = {
      progress: () => ({ stepsDone }),
      onFinalFailure: (message) => log.error(`✗ Watch cycle ${input.cycle} failed: ${message}`),
    };
    return runAttempt(ACTIVITY.watchPlan, deps, hooks, async (attempt) => {
      const { claimed, newDevices } = step(await store.claim(watchKey, input.cycle));
      // A retried cycle finds what its earlier attempt claimed under the same number.
      if (claimed === 0 && !(await store.anyClaimedSince(watchKey, input.cycle))) return { changedDevices: 0, newDevices: 0 };
      const runKey = cycleRunKey(input.workflowId, input.cycle);
      const plan = step(await planCycle(deps, { workflowId: input.workflowId, watchKey, runKey, fromCycle: input.fromCycle, queries: attempt }));
      log.info(
        `Watch cycle ${input.cycle}: ${claimed} changed devices (${newDevices} new); plan ${plan.fingerprint}: ${plan.pointsToCreate} points to create on ` +
          `${plan.stationsToChange} stations, ${plan.notFound} devices without a station`,
      );
      deps.metrics.planBuilt(plan);
      // Only a plan that would write needs the guard's counts.
      const silence = step(input.silenceSince !== undefined && plan.pointsToCreate > 0 ? await silenceOf(watchKey, input.silenceSince) : undefined);
      const oldestHeard = plan.pointsToCreate > 0 ? await store.oldestHeard(watchKey, input.fromCycle) : undefined;
      return { changedDevices: claimed, newDevices, plan, runKey, ...(silence ? { silence } : {}), ...(oldestHeard ? { oldestHeard: oldestHeard.toISOString() } : {}) };
    });
  };
}

export function createEndWatchSessionsActivity(deps: { mqtt: MqttConfig; log: Log }) {
  /** Ends the MQTT session of every collector the watch ran (`watch stop`); the broker keeps nothing for it after. */
  return async function endWatchSessions(input: { workflowId: string; collectors: number }): Promise<void> {
    for (let index = 0; index < Math.max(1, input.collectors); index++) {
      await endPersistentSession(deps.mqtt.url, deps.mqtt.options, watchSessionKey(input.workflowId, index));
    }
    deps.log.info(`Ended the MQTT session${input.collectors > 1 ? 's' : ''} of watch ${input.workflowId}`);
  };
}
