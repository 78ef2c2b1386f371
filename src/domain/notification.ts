import type { NotificationEvent } from '../shared';
import { formatDeadline } from './duration';

/**
 * The JSON body POSTed to NOTIFY_WEBHOOK_URL: `text` is what a Slack or Mattermost incoming webhook shows as it
 * is; the other fields are for receivers that route or format events themselves.
 */
export interface NotificationBody extends NotificationEvent {
  text: string;
  /** The Web UI page of the run. */
  webUiUrl: string;
  /** Present on `awaiting-approval`: the command that approves this very plan. */
  approveCommand?: string;
  rejectCommand?: string;
}

const EMOJI: Record<NotificationEvent['event'], string> = {
  'awaiting-approval': '⏳',
  applied: '✅',
  expired: '⌛',
  rejected: '🚫',
  failed: '❌',
  'heard-nothing': '🔇',
  cancelled: '⏹️',
};

function planLine(event: NotificationEvent): string {
  const { plan } = event;
  if (!plan) return 'no plan was built';
  return (
    `plan ${plan.fingerprint}: ${plan.pointsToCreate} points to create on ${plan.stationsToChange} stations ` +
    `(${plan.processedDevices} devices, ${plan.notFound} without a station, ${plan.rejected} rejected messages)` +
    (plan.testDeviceId !== undefined ? `, test mode: only device ${plan.testDeviceId} is written` : '')
  );
}

/** `nowMs`: when the notification is sent, for the time left before the approval deadline. */
export function notificationBody(event: NotificationEvent, webUiUrl: string, nowMs: number = Date.now()): NotificationBody {
  const id = event.workflowId;
  const headline = (() => {
    switch (event.event) {
      case 'awaiting-approval':
        return (
          `awaits approval until ${event.approvalDeadline ? formatDeadline(event.approvalDeadline, nowMs) : '(no deadline)'}${event.autoApproveExceeded ? ` (not auto-approved: ${event.autoApproveExceeded})` : ''}` +
          (event.tooManySilent ? ` (held for a person: ${event.tooManySilent})` : '')
        );
      case 'applied':
        return `applied: ${event.created ?? 0} charging points created on ${event.stationsChanged ?? 0} stations, approved by ${event.approvedBy ?? 'unknown'}`;
      case 'expired':
        return 'expired: no approval arrived in time, nothing was written';
      case 'rejected':
        return `rejected by ${event.rejectedBy ?? 'unknown'}${event.rejectionReason ? ` (${event.rejectionReason})` : ''}: nothing was written`;
      case 'failed':
        return `failed${event.failedDuring ? ` while ${event.failedDuring}` : ''}: ${event.error ?? 'unknown error'}`;
      case 'heard-nothing':
        return 'heard nothing: no device sent a valid message during the window (check --account, CLOUD_HOST and the topic filter); nothing was planned';
      case 'cancelled':
        return `cancelled${event.cancelledDuring ? ` while ${event.cancelledDuring}` : ''}: nothing was written`;
    }
  })();
  const body: NotificationBody = { ...event, webUiUrl, text: '' };
  const lines = [`${EMOJI[event.event]} charging-points-sync ${id} ${headline}`, planLine(event)];
  if (event.event === 'awaiting-approval' && event.plan) {
    body.approveCommand = `cp-sync approve ${id} --fingerprint ${event.plan.fingerprint}`;
    body.rejectCommand = `cp-sync reject ${id} --reason "<why>"`;
    lines.push(`Approve: \`${body.approveCommand}\` · reject: \`${body.rejectCommand}\``);
  }
  lines.push(`Web UI: ${webUiUrl}`);
  body.text = lines.join('\n');
  return body;
}
