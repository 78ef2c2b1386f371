import { workflowInfo } from '@temporalio/workflow';
import type { Phase, SyncInput, SyncResult } from '../shared';
import { applyPlan, buildPlan } from './activity-options';
import { decide } from './decide';
import { endCancelled, endFailed, heardNothing, isRunCancelled } from './endings';
import { installHandlers } from './handlers';
import { validateSyncInput } from './input';
import { createNotifier } from './notifications';
import { resultOf } from './result';
import { trackRun } from './run-status';
import { stopOnRejection, untilRejected } from './until-rejected';
import { collectWindow } from './window';

/**
 * One sync: collect for a window bounded by a durable timer, build the plan, wait for an operator (the plan is
 * a dry run until then), apply. Large data stays in the tool's tables; state and history hold summaries.
 */
export async function syncChargingPoints(rawInput: SyncInput): Promise<SyncResult> {
  const input = validateSyncInput(rawInput);
  const { runId, workflowId } = workflowInfo();
  const run = trackRun(input);
  const { status } = run;
  installHandlers(run);
  const notifier = createNotifier(status, run.tell);
  const finish = async (phase: Phase): Promise<SyncResult> => {
    run.setPhase(phase);
    notifier.notify(phase);
    await notifier.settle();
    return resultOf(status);
  };

  try {
    const windowStop = stopOnRejection(status);
    status.collectionNote = await collectWindow(input, runId, workflowId, windowStop.stopped);
    windowStop.done();
    if (windowStop.fired()) return await finish('rejected');

    run.setPhase('planning');
    const planned = await untilRejected(status, () => buildPlan({ runKey: runId, testDeviceId: input.testDeviceId }));
    if (planned === undefined) return await finish('rejected');
    const plan = run.settled(planned);
    status.plan = plan;

    if (status.rejection) return await finish('rejected');
    if (heardNothing(input, plan)) return await finish('heard-nothing');
    if (plan.pointsToCreate === 0) return await finish('nothing-to-do');
    if (input.dryRun) return await finish('dry-run');

    const decision = await decide(run, input, plan, () => notifier.notify('awaiting-approval'));
    if (decision !== 'approved') return await finish(decision);

    run.setPhase('applying');
    status.apply = run.settled(await applyPlan({ runKey: runId, fingerprint: plan.fingerprint }));
    return await finish('applied');
  } catch (err) {
    if (isRunCancelled(err)) {
      await endCancelled(run, notifier);
      throw err;
    }
    throw await endFailed(run, notifier, err);
  }
}
