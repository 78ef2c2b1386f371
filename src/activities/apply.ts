import { ApplicationFailure, Context } from '@temporalio/activity';
import { applyPlan } from '../db/applier';
import { storedPlanFingerprint } from '../db/planner';
import type { SyncDatabase } from '../db/tables';
import type { LogLevel } from '../config';
import type { Log } from '../log';
import type { SyncMetrics } from '../metrics';
import { APPLY_RETRY, ERROR_TYPES, type ApplyResult } from '../shared';
import type { AttemptQueries } from '../db/attempt-queries';
import { attemptQueries, failAttempt, failureOfStopped, whileHeartbeating } from './attempts';

export interface ApplyInput {
  runKey: string;
  /** The fingerprint the operator approved; the stored plan must still have it. */
  fingerprint: string;
}

export function createApplyActivity(deps: SyncDatabase & { log: Log; metrics: SyncMetrics; logLevel?: LogLevel }) {
  return async function applyMissingPoints(input: ApplyInput): Promise<ApplyResult> {
    const context = Context.current();
    const { log } = deps;
    let stations = 0;
    let queries: AttemptQueries | undefined;
    try {
      // Heartbeated too: killing a predecessor is a statement like the others.
      queries = await whileHeartbeating(context, () => attemptQueries(context, deps.pool, log));
      const attempt = queries;
      // Heartbeats on a timer, also while a query waits on a lock: a dead worker's attempt is given to another
      // worker within the heartbeat timeout.
      const outcome = await whileHeartbeating(
        context,
        async () => {
          const stored = await storedPlanFingerprint(deps, input.runKey, attempt);
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
            queries: attempt,
            // Built only at LOG_LEVEL=debug: at 180,000 points the JSON costs more than the inserts.
            onStationPoints: deps.logLevel === 'debug' ? (name, points) => log.debug(`newPoints :>>  ${JSON.stringify(points)} (${name})`) : undefined,
            onProgress: (done) => {
              stations = done;
            },
          });
        },
        () => ({ stations }),
      );
      const { replayed, ...result } = outcome;
      if (replayed) log.info(`Run ${input.runKey} was already applied; returning its recorded result`);
      else deps.metrics.pointsCreated(result.created);
      log.info('=== Success ===');
      log.info('✓ Transaction committed successfully');
      log.info(`Total charging points created: ${result.created}`);
      if (result.alreadyPresent > 0) log.info(`Points that already existed when applying (not created again): ${result.alreadyPresent}`);
      if (result.stationsGone > 0) log.info(`Planned stations deleted before applying (skipped): ${result.stationsGone}`);
      return result;
    } catch (thrown) {
      // The transaction has been rolled back either way; the final lines only when no attempt follows.
      return failAttempt(await failureOfStopped(thrown, context, queries), {
        context,
        log,
        activity: 'applyMissingPoints',
        what: 'Transaction',
        policy: APPLY_RETRY,
        onFinalFailure: (message) => {
          log.error('=== Failed ===');
          log.error(`✗ Transaction rolled back due to error: ${message}`);
          log.error('No charging points were created');
        },
      });
    }
  };
}
