/**
 * The workflow's metrics: how runs end (plans by outcome) and how long plans wait for approval. Emitted through the
 * workflow's metric meter, which stays silent while a history replays, so each transition counts once.
 */
import { metricMeter, workflowInfo } from '@temporalio/workflow';
import { METRICS } from '../metrics';
import { FINAL_PHASES, type Phase } from '../shared';

/** Called on each phase change, with when the plan started waiting (if it did). */
export function recordPhase(from: Phase, to: Phase, awaitingSince: Date | undefined): void {
  const { workflowId } = workflowInfo();
  const since = metricMeter.createGauge(
    METRICS.awaitingApprovalSince,
    'float',
    undefined,
    'When the plan of a run started waiting for approval (Unix seconds), 0 once decided; one series per workflow id',
  );
  if (to === 'awaiting-approval' && awaitingSince !== undefined) since.set(awaitingSince.getTime() / 1000, { workflow_id: workflowId });
  if (from === 'awaiting-approval' && to !== 'awaiting-approval') {
    since.set(0, { workflow_id: workflowId });
    if (awaitingSince !== undefined) {
      const outcome = to === 'applying' ? 'approved' : to;
      metricMeter
        .createHistogram(METRICS.approvalWait, 'float', undefined, 'How long plans waited for a decision, by outcome (approved, rejected, expired)')
        .record(Math.max(0, (Date.now() - awaitingSince.getTime()) / 1000), { outcome });
    }
  }
  if (FINAL_PHASES.includes(to)) {
    metricMeter.createCounter(METRICS.plans, undefined, 'Runs ended, by outcome (applied, nothing-to-do, dry-run, rejected, expired, failed)').add(1, { outcome: to });
  }
}
