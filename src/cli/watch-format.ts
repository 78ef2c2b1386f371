/** What `cp-sync status <watch id>` prints for people: the watch's lines, beside format.ts's for a sync. */
import { formatDuration } from '../domain/duration';
import { connectionLine, planHeadline } from '../domain/run-text';
import type { WatchStatus } from '../watch-shared';

/** A status query's answer is a watch's when it says so (a sync's has no `kind`). */
export function isWatchStatus(status: object): status is WatchStatus {
  return (status as { kind?: unknown }).kind === 'watch';
}

export function formatWatchStatus(workflowId: string, status: WatchStatus): string[] {
  const { input, lastCycle, pending } = status;
  const lines = [
    `Watch ${workflowId}: ${status.phase}${status.stopping ? ' (stopping)' : ''}`,
    `  a cycle every ${formatDuration(input.intervalMs)} on ${input.account ? `account ${input.account}` : 'all accounts'}; watching since ${status.startedAt}`,
    `  ${status.devicesHeard} devices heard · ${status.cycles} cycles · ${status.createdTotal} points created in all, ${status.createdToday} today (${status.createdDay}, UTC)`,
  ];
  if (lastCycle) {
    lines.push(
      `  last cycle ${lastCycle.cycle} at ${lastCycle.at}: ${lastCycle.changedDevices} changed devices, ${lastCycle.pointsToCreate} points to create, ${lastCycle.created} created (${lastCycle.decision})`,
    );
  } else lines.push('  no cycle yet');
  if (pending) {
    lines.push(
      `  waiting for approval since ${pending.since} (cycle ${pending.cycle}): ${planHeadline(pending.plan)}`,
      `  cp-sync plan ${workflowId}, then cp-sync approve ${workflowId} --fingerprint ${pending.plan.fingerprint} (a newer cycle's plan supersedes it)`,
    );
    if (pending.autoApproveExceeded) lines.push(`  not auto-approved: ${pending.autoApproveExceeded}`);
  }
  const superseded = status.superseded.at(-1);
  if (superseded) lines.push(`  last superseded: plan ${superseded.fingerprint} of cycle ${superseded.cycle}, by cycle ${superseded.by}'s`);
  if (status.lastApproval) lines.push(`  last approved by ${status.lastApproval.by} at ${status.lastApproval.at} (plan ${status.lastApproval.fingerprint})`);
  if (status.lastRejection) lines.push(`  last rejected by ${status.lastRejection.by} at ${status.lastRejection.at}${status.lastRejection.reason ? ` (${status.lastRejection.reason})` : ''}`);
  for (const r of status.refusedApprovals) lines.push(`  refused approval from ${r.by} at ${r.at}: ${r.reason}`);
  if (status.brokerProblem) lines.push(`  ${connectionLine(status.brokerProblem)} (collection resumes once it connects)`);
  if (status.error) lines.push(`  error: ${status.error}`);
  return lines;
}
