import { ActivityFailure, ApplicationFailure, CancellationScope, patched, TimeoutFailure, workflowInfo } from '@temporalio/workflow';
import { outcomeLine } from '../domain/run-text';
import { NOTIFICATION_EVENTS, type NotificationEvent, type NotificationEventName, type Phase, type SyncStatus } from '../shared';
import { sendNotification } from './activity-options';

/** Runs recorded before notifications existed replay without them; runs from this version on send them. */
export const NOTIFICATIONS_PATCH = 'webhook-notifications';

/** Failures as the status shows them: the activity's own message (it never names the URL), or a timeout. */
function failureText(err: unknown): string {
  if (err instanceof ActivityFailure) {
    if (err.cause instanceof TimeoutFailure) return 'the webhook did not answer in time';
    if (err.cause instanceof ApplicationFailure) return err.cause.message;
  }
  return err instanceof Error ? err.message : String(err);
}

function eventOf(name: NotificationEventName, status: SyncStatus): NotificationEvent {
  const { workflowId, runId } = workflowInfo();
  const { plan } = status;
  return {
    event: name,
    workflowId,
    runId,
    plan: plan && {
      fingerprint: plan.fingerprint,
      pointsToCreate: plan.pointsToCreate,
      stationsToChange: plan.stationsToChange,
      processedDevices: plan.processedDevices,
      notFound: plan.notFound,
      rejected: plan.rejected,
      testDeviceId: plan.testDeviceId,
    },
    approvalDeadline: status.approvalDeadline,
    autoApproveExceeded: status.autoApproveExceeded,
    tooManySilent: status.tooManySilent,
    approvedBy: status.approval?.by,
    rejectedBy: status.rejection?.by,
    rejectionReason: status.rejection?.reason,
    created: status.apply?.created,
    stationsChanged: status.apply?.stationsChanged,
    error: status.error,
    failedDuring: status.failedDuring,
    cancelledDuring: status.cancelledDuring,
    outcome: outcomeLine(status),
  };
}

export interface Notifier {
  /** Starts the notification of `phase` when it is one operators are told about; never waits for it. */
  notify(phase: Phase): void;
  /** Waits for the notifications still running (bounded by their schedule-to-close timeout); never throws. */
  settle(): Promise<void>;
}

/**
 * Notifications run beside the sync: started without being awaited, so a slow or failing webhook never holds up
 * the plan, the approval or the write, and their outcome is recorded in the status (`tell` publishes it).
 */
export function createNotifier(status: SyncStatus, tell: () => void): Notifier {
  const outstanding = new Set<Promise<void>>();
  const isEvent = (phase: Phase): phase is NotificationEventName => (NOTIFICATION_EVENTS as readonly string[]).includes(phase);
  return {
    notify(phase) {
      if (!isEvent(phase) || !patched(NOTIFICATIONS_PATCH)) return;
      const record = { event: phase, state: 'pending' as const, at: new Date().toISOString() };
      status.notifications = [...(status.notifications ?? []), record];
      const index = status.notifications.length - 1;
      const update = (change: Partial<NonNullable<SyncStatus['notifications']>[number]>): void => {
        status.notifications = status.notifications?.map((r, i) => (i === index ? { ...r, ...change, at: new Date().toISOString() } : r));
        tell();
      };
      // Not cancellable: a run that fails because it was cancelled still tells its operators.
      const sending = CancellationScope.nonCancellable(() => sendNotification(eventOf(phase, status))).then(
        (outcome) => update({ state: outcome.delivery }),
        (err: unknown) => update({ state: 'failed', error: failureText(err) }),
      );
      outstanding.add(sending);
      void sending.finally(() => outstanding.delete(sending));
    },
    async settle() {
      await Promise.all([...outstanding]);
    },
  };
}
