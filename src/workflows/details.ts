import { formatDeadline, formatDuration } from '../domain/duration';
import { approvalMode, connectionLine, outcomeLine, pointsToCreate } from '../domain/run-text';
import type { ActivityRetry, NotificationRecord, SyncStatus } from '../shared';
import { approvalData } from './decision';

/** Text from operators (names, comments, reasons) shown literally: `--yes` must not become an en dash. */
export function literal(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (c) => `\\${c}`);
}

/**
 * One line about an activity being retried, the same in the Web UI and in `cp-sync status`:
 * "applyMissingPoints attempt 1 of 20 failed (reason); attempt 2 due at …".
 */
export function retryLine(retry: ActivityRetry): string {
  const of = retry.maximumAttempts > 0 ? ` of ${retry.maximumAttempts}` : '';
  const failed = `${retry.activity} attempt ${retry.attempt - 1}${of} failed (${retry.lastFailure})`;
  if (retry.state === 'started') return `${failed}; attempt ${retry.attempt} is running`;
  return `${failed}; attempt ${retry.attempt}${retry.nextAttemptAt ? ` due at ${retry.nextAttemptAt}` : ' is due'}`;
}

/**
 * The notifications worth a line: those that failed (the run went on regardless) or are being retried; none when
 * all were sent or notifications are off. E.g. "failed (applied: the webhook answered HTTP 500)".
 */
export function notificationLine(records: readonly NotificationRecord[] | undefined): string | undefined {
  const failed = (records ?? []).filter((r) => r.state === 'failed');
  if (failed.length > 0) return `failed (${failed.map((r) => `${r.event}: ${r.error ?? 'unknown error'}`).join('; ')})`;
  const pending = (records ?? []).filter((r) => r.state === 'pending');
  return pending.length > 0 ? `sending (${pending.map((r) => r.event).join(', ')})` : undefined;
}

/**
 * The story of the run for the Web UI's "Current Details" panel (markdown): phase, plan summary, who decided.
 * Kept short: it is stored with each workflow task.
 */
export function currentDetails(status: SyncStatus): string {
  const outcome = outcomeLine(status);
  const lines = outcome ? [`**Outcome:** ${literal(outcome)}`, `**Phase:** ${status.phase}`] : [`**Phase:** ${status.phase}`];
  const { input, plan, approval, rejection, apply } = status;
  const mode = approvalMode(input);
  lines.push(`**Window:** ${formatDuration(input.collectorDurationMs)}${input.testDeviceId ? ` · test device ${input.testDeviceId}` : ''}${mode === 'approval' ? '' : ` · ${mode}`}`);
  if (status.collectionNote) lines.push(`**Collection:** ${status.collectionNote}`);
  if (status.phase === 'collecting' && status.connectionError) lines.push(`**Broker:** ${literal(connectionLine(status.connectionError))}`);
  if (plan) {
    lines.push(
      `**Plan ${plan.fingerprint}:**${plan.testDeviceId ? ` (test mode: only ${plan.testDeviceId})` : ''} ${pointsToCreate(plan)} · ` +
        `${plan.processedDevices} devices · ${plan.notFound} without a station · ${plan.surplusPoints} surplus · ${plan.rejected} rejected messages` +
        (plan.silentStations !== undefined ? ` · ${plan.silentStations} silent stations` : '') +
        (plan.ambiguousDevices ? ` · ${plan.ambiguousDevices} ambiguous devices` : '') +
        (plan.brokerDroppedMessages !== undefined ? ` · ${plan.brokerDroppedMessages} messages dropped by the broker` : ''),
    );
  }
  if (status.phase === 'awaiting-approval' && status.approvalDeadline) lines.push(`**Waiting for approval until** ${formatDeadline(status.approvalDeadline)}`);
  if (status.phase === 'awaiting-approval' && plan) lines.push(`**To approve here:** Send an Update named \`approve\` with the Data \`${approvalData(plan.fingerprint)}\``);
  if (status.autoApproveExceeded) lines.push(`**Not auto-approved:** ${status.autoApproveExceeded}`);
  if (status.tooManySilent) lines.push(`**Held for a person:** ${status.tooManySilent}`);
  if (approval) lines.push(`**Approved by** ${literal(approval.by)} at ${approval.at}${approval.comment ? ` — ${literal(approval.comment)}` : ''}`);
  if (rejection) lines.push(`**Rejected by** ${literal(rejection.by)} at ${rejection.at}${rejection.reason ? ` — ${literal(rejection.reason)}` : ''}`);
  const lastRefusal = status.refusedApprovals.at(-1);
  if (lastRefusal) lines.push(`**Refused approval** from ${literal(lastRefusal.by)}: ${literal(lastRefusal.reason)}`);
  if (status.retry) lines.push(`**Retrying:** ${retryLine({ ...status.retry, lastFailure: literal(status.retry.lastFailure) })}`);
  if (apply) lines.push(`**Created** ${apply.created} points on ${apply.stationsChanged} stations (${apply.alreadyPresent} already present)`);
  if (status.error) lines.push(`**Error:** ${status.error}`);
  const notification = notificationLine(status.notifications);
  if (notification) lines.push(`**Notification:** ${literal(notification)}`);
  return lines.join('\n\n');
}
