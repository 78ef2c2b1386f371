/** The watch's story for the Web UI's "Current Details" panel (markdown), kept short: it is stored with each workflow task. */
import { formatDuration } from '../domain/duration';
import { connectionLine } from '../domain/run-text';
import { literal } from './details';
import type { WatchStatus } from '../watch-shared';

export function watchDetails(status: WatchStatus): string {
  const { input, lastCycle, pending } = status;
  const lines = [
    `**Phase:** ${status.phase}${status.stopping ? ' (stopping)' : ''}`,
    `**Watching** ${input.account ?? 'all accounts'} every ${formatDuration(input.intervalMs)} · ${input.collectors ?? 1} collector(s) · ${status.devicesHeard} devices heard`,
    `**Cycles:** ${status.cycles} · **created** ${status.createdTotal} points in all, ${status.createdToday} today (${status.createdDay})`,
  ];
  if (lastCycle) {
    lines.push(`**Last cycle** ${lastCycle.cycle} at ${lastCycle.at}: ${lastCycle.changedDevices} changed devices, ${lastCycle.pointsToCreate} points to create, ${lastCycle.created} created (${lastCycle.decision})`);
  }
  if (pending) {
    lines.push(`**Waiting for approval:** plan ${pending.plan.fingerprint} of cycle ${pending.cycle}, ${pending.plan.pointsToCreate} points on ${pending.plan.stationsToChange} stations since ${pending.since}`);
    if (pending.autoApproveExceeded) lines.push(`**Not auto-approved:** ${pending.autoApproveExceeded}`);
  }
  const refused = status.refusedApprovals.at(-1);
  if (refused) lines.push(`**Refused approval** from ${refused.by}: ${refused.reason}`);
  if (status.brokerProblem) lines.push(`**Broker:** ${literal(connectionLine(status.brokerProblem))}`);
  if (status.error) lines.push(`**Last error:** ${status.error}`);
  return lines.join('\n\n');
}
