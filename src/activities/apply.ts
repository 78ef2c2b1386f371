import { ApplicationFailure } from '@temporalio/activity';
import { applyPlan } from '../store/applier';
import { storedPlanFingerprint } from '../store/planner';
import type { SyncDatabase } from '../db/tables';
import type { LogLevel } from '../config';
import type { Log } from '../log';
import type { SyncMetrics } from '../metrics';
import { ACTIVITY, ERROR_TYPES, type ApplyResult } from '../shared';
import { runAttempt, type AttemptHooks } from './attempts';

export interface ApplyInput {
  runKey: string;
  /** The fingerprint the operator approved; the stored plan must still have it. */
  fingerprint: string;
}

export function createApplyActivity(deps: SyncDatabase & { log: Log; metrics: SyncMetrics; logLevel?: LogLevel }) {
  return async function applyMissingPoints(input: ApplyInput): Promise<ApplyResult> {
    const { log } = deps;
    let stations = 0;
    const hooks: AttemptHooks = {
      progress: () => ({ stations }),
      // The transaction has been rolled back either way; the final lines only when no attempt follows.
      onFinalFailure: (message) => {
        log.error('=== Failed ===');
        log.error(`✗ Transaction rolled back due to error: ${message}`, { reason: message, fingerprint: input.fingerprint });
        log.error('No charging points were created');
      },
    };
    // Heartbeats on a timer, also while a query waits on a lock: a dead worker's attempt is given to another worker
    // within the heartbeat timeout.
    const outcome = await runAttempt(ACTIVITY.apply, deps, hooks, async (queries) => {
      const stored = await storedPlanFingerprint(deps, input.runKey, queries);
      if (stored !== input.fingerprint) {
        throw ApplicationFailure.create({
          type: ERROR_TYPES.planMismatch,
          message: `the stored plan has fingerprint ${stored}, not the approved ${input.fingerprint}; nothing was written`,
          nonRetryable: true,
        });
      }
      return applyPlan(deps, {
        runKey: input.runKey,
        fingerprint: input.fingerprint,
        queries,
        // Built only at LOG_LEVEL=debug: at 180,000 points the JSON costs more than the inserts.
        onStationPoints: deps.logLevel === 'debug' ? (name, points) => log.debug(`newPoints :>>  ${JSON.stringify(points)} (${name})`) : undefined,
        onProgress: (done) => {
          stations = done;
        },
      });
    });
    const { replayed, ...result } = outcome;
    if (replayed) log.info(`Run ${input.runKey} was already applied; returning its recorded result`);
    else deps.metrics.pointsCreated(result.created);
    log.info('=== Success ===');
    log.info('✓ Transaction committed successfully');
    log.info(`Total charging points created: ${result.created}`, { created: result.created, stationsChanged: result.stationsChanged, fingerprint: input.fingerprint });
    if (result.alreadyPresent > 0) log.info(`Points that already existed when applying (not created again): ${result.alreadyPresent}`, { alreadyPresent: result.alreadyPresent });
    if (result.stationsGone > 0) log.info(`Planned stations deleted before applying (skipped): ${result.stationsGone}`);
    return result;
  };
}
