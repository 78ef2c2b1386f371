import { ApplicationFailure, Context } from '@temporalio/activity';
import { applyPlan } from '../db/applier';
import { classifyDatabaseError } from '../db/errors';
import { storedPlanFingerprint } from '../db/planner';
import type { SyncDatabase } from '../db/tables';
import type { Log } from '../log';
import { ERROR_TYPES, type ApplyResult } from '../shared';

export interface ApplyInput {
  runKey: string;
  /** The fingerprint the operator approved; the stored plan must still have it. */
  fingerprint: string;
}

export function createApplyActivity(deps: SyncDatabase & { log: Log }) {
  return async function applyMissingPoints(input: ApplyInput): Promise<ApplyResult> {
    const context = Context.current();
    const { log } = deps;
    try {
      const stored = await storedPlanFingerprint(deps, input.runKey);
      if (stored !== input.fingerprint) {
        throw ApplicationFailure.create({
          type: ERROR_TYPES.planMismatch,
          message: `the stored plan has fingerprint ${stored}, not the approved ${input.fingerprint}; nothing was written`,
          nonRetryable: true,
        });
      }
      const outcome = await applyPlan(deps, {
        runKey: input.runKey,
        fingerprint: input.fingerprint,
        onStationPoints: (name, points) => log.debug(`newPoints :>>  ${JSON.stringify(points)} (${name})`),
        onProgress: (stations) => context.heartbeat({ stations }),
      });
      const { replayed, ...result } = outcome;
      if (replayed) log.info(`Run ${input.runKey} was already applied; returning its recorded result`);
      log.info('=== Success ===');
      log.info('✓ Transaction committed successfully');
      log.info(`Total charging points created: ${result.created}`);
      if (result.alreadyPresent > 0) log.info(`Points that already existed when applying (not created again): ${result.alreadyPresent}`);
      if (result.stationsGone > 0) log.info(`Planned stations deleted before applying (skipped): ${result.stationsGone}`);
      return result;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error('=== Failed ===');
      log.error(`✗ Transaction rolled back due to error: ${message}`);
      log.error('No charging points were created');
      if (err instanceof ApplicationFailure) throw err;
      return classifyDatabaseError(err);
    }
  };
}
