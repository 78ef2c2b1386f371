import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type { SyncActivities } from '../activities';
import {
  APPLY_HEARTBEAT_TIMEOUT_MS,
  APPLY_RETRY,
  DIFF_HEARTBEAT_TIMEOUT_MS,
  DIFF_RETRY,
  DECISION_REFUSED,
  ERROR_TYPES,
  type ActivityRetry,
  type ApprovalRecord,
  type ApproveSignal,
  type Phase,
  type RejectionRecord,
  type RejectSignal,
  type RetrySettings,
  type SyncInput,
  type SyncResult,
  type SyncStatus,
} from '../shared';
import { judgeApproval, judgeRejection } from './decision';
import { activityRetryingSignal, approveSignal, approveUpdate, rejectSignal, rejectUpdate, statusQuery } from './definitions';
import { currentDetails } from './details';
import { autoDecision } from './auto-approve';
import { recordPhase } from './metrics';
import { validateSyncInput } from './input';
import { createNotifier } from './notifications';
import { resultOf } from './result';
import { visibilityPublisher } from './visibility';

/** Refused approvals kept in the status, newest last. */
const REFUSALS_KEPT = 10;

/** The activities throw these as non-retryable already; naming them here keeps the policy honest on its own. */
const NEVER_RETRIED = [ERROR_TYPES.database, ERROR_TYPES.planMismatch, ERROR_TYPES.neverCollected, ERROR_TYPES.unexpected, ERROR_TYPES.tls];

function retryPolicy(settings: RetrySettings) {
  return {
    initialInterval: settings.initialIntervalMs,
    backoffCoefficient: settings.backoffCoefficient,
    maximumInterval: settings.maximumIntervalMs,
    maximumAttempts: settings.maximumAttempts,
    nonRetryableErrorTypes: NEVER_RETRIED,
  };
}

// Both heartbeat on a timer while their queries run (activities/attempts.ts): a lost worker is noticed within the
// heartbeat timeout and the attempt runs again on another worker.
const { diffStations } = proxyActivities<SyncActivities>({
  summary: 'Build the plan: devices against stations and their live points',
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: DIFF_HEARTBEAT_TIMEOUT_MS,
  retry: retryPolicy(DIFF_RETRY),
});

const { applyMissingPoints } = proxyActivities<SyncActivities>({
  summary: 'Create the approved missing points in one transaction',
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: APPLY_HEARTBEAT_TIMEOUT_MS,
  retry: retryPolicy(APPLY_RETRY),
});

/** The activity each phase runs, for the retries it may report. */
const ACTIVITY_OF_PHASE: Partial<Record<Phase, string>> = { planning: 'diffStations', applying: 'applyMissingPoints' };

/** Guards the search-attribute and memo upserts (visibility.ts), which histories recorded before them do not have. */
const VISIBILITY_PATCH = 'cp-sync-visibility';
/** The window's timer is cancelled with the collectors when a collection fails first (runs before it left it pending). */
const WINDOW_TIMER_PATCH = 'cancel-window-timer';

/**
 * One sync: collect for a window bounded by a durable timer, build the plan, wait for an operator (the plan is
 * a dry run until then), apply. Large data stays in the tool's tables; state and history hold summaries.
 */
export async function syncChargingPoints(rawInput: SyncInput): Promise<SyncResult> {
  const input = validateSyncInput(rawInput);
  const { runId, workflowId } = workflowInfo();
  const status: SyncStatus = { phase: 'collecting', startedAt: new Date().toISOString(), input, refusedApprovals: [], refusedRejections: [] };
  const decided = (): boolean => status.approval !== undefined || status.rejection !== undefined;

  setHandler(statusQuery, () => status);
  // Runs started before the search attributes existed replay without their upserts (a command each).
  const publish = patched(VISIBILITY_PATCH) ? visibilityPublisher() : (): void => undefined;
  const tell = (): void => {
    setCurrentDetails(currentDetails(status));
    publish(status);
  };
  let awaitingSince: Date | undefined;
  const setPhase = (phase: Phase): void => {
    if (phase === 'awaiting-approval') awaitingSince = new Date();
    recordPhase(status.phase, phase, awaitingSince, status.approvalDeadline);
    status.phase = phase;
    tell();
  };
  tell();

  // One decision function for both paths: an Update is refused in its validator (nothing enters the history), a
  // signal cannot answer, so its refusal is recorded in the status for `cp-sync status` and the Web UI.
  const refusal = (verdict: { refused: string }): ApplicationFailure =>
    ApplicationFailure.create({ type: DECISION_REFUSED, message: verdict.refused, nonRetryable: true });
  const approve = (request?: ApproveSignal): ApprovalRecord => {
    const verdict = judgeApproval(status, request, new Date().toISOString());
    if ('refused' in verdict) throw refusal(verdict);
    status.approval = verdict.accepted;
    tell();
    return verdict.accepted;
  };
  const reject = (request?: RejectSignal): RejectionRecord => {
    const verdict = judgeRejection(status, request, new Date().toISOString());
    if ('refused' in verdict) throw refusal(verdict);
    status.rejection = verdict.accepted;
    tell();
    return verdict.accepted;
  };
  setHandler(approveUpdate, approve, {
    validator: (request?: ApproveSignal) => {
      const verdict = judgeApproval(status, request, new Date().toISOString());
      if ('refused' in verdict) throw refusal(verdict);
    },
  });
  setHandler(rejectUpdate, reject, {
    validator: (request?: RejectSignal) => {
      const verdict = judgeRejection(status, request, new Date().toISOString());
      if ('refused' in verdict) throw refusal(verdict);
    },
  });
  setHandler(approveSignal, (request?: ApproveSignal) => {
    const verdict = judgeApproval(status, request, new Date().toISOString());
    if ('accepted' in verdict) return void approve(request);
    log.warn('Approval refused', { by: verdict.by, fingerprint: verdict.fingerprint, reason: verdict.refused });
    status.refusedApprovals = [...status.refusedApprovals, { by: verdict.by, fingerprint: verdict.fingerprint, reason: verdict.refused, at: new Date().toISOString() }].slice(-REFUSALS_KEPT);
    tell();
  });
  setHandler(rejectSignal, (request?: RejectSignal) => {
    const verdict = judgeRejection(status, request, new Date().toISOString());
    if ('accepted' in verdict) return void reject(request);
    log.warn('Rejection refused', { by: verdict.by, reason: verdict.refused });
    status.refusedRejections = [...status.refusedRejections, { by: verdict.by, reason: verdict.refused, at: new Date().toISOString() }].slice(-REFUSALS_KEPT);
    tell();
  });

  // A failed attempt that Temporal retries says so (the workflow does not see attempts by itself). Only the current
  // phase's activity counts: a late signal from an activity that has ended is ignored.
  setHandler(activityRetryingSignal, (retry: ActivityRetry) => {
    if (ACTIVITY_OF_PHASE[status.phase] !== retry?.activity) return;
    status.retry = retry;
    tell();
  });
  const settled = <T>(value: T): T => {
    status.retry = undefined;
    return value;
  };

  const notifier = createNotifier(status, tell);
  const finish = async (phase: Phase): Promise<SyncResult> => {
    setPhase(phase);
    notifier.notify(phase);
    await notifier.settle();
    return resultOf(status);
  };

  try {
    status.collectionNote = await collectWindow(input, runId, workflowId);

    setPhase('planning');
    const plan = settled(await diffStations({ runKey: runId, testDeviceId: input.testDeviceId }));
    status.plan = plan;

    if (status.rejection) return await finish('rejected');
    if (plan.pointsToCreate === 0) return await finish('nothing-to-do');
    if (input.dryRun) return await finish('dry-run');

    const auto = autoDecision(input, plan);
    if ('approver' in auto) {
      status.approval = { by: auto.approver, at: new Date().toISOString(), fingerprint: plan.fingerprint, auto: true };
    } else {
      status.autoApproveExceeded = auto.waitReason;
      status.approvalDeadline = new Date(Date.now() + input.approvalTimeoutMs).toISOString();
      setPhase('awaiting-approval');
      notifier.notify('awaiting-approval');
      if (!(await condition(decided, input.approvalTimeoutMs, { summary: 'Waiting for approval (APPROVAL_TIMEOUT)' }))) return await finish('expired');
      if (status.rejection) return await finish('rejected');
    }

    setPhase('applying');
    status.apply = settled(await applyMissingPoints({ runKey: runId, fingerprint: plan.fingerprint }));
    return await finish('applied');
  } catch (err) {
    status.failedDuring = status.phase;
    status.retry = undefined;
    status.error = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
    setPhase('failed');
    notifier.notify('failed');
    await notifier.settle();
    throw err;
  }
}

/**
 * The collection window: the activity listens until the durable timer fires, then is cancelled and stores its
 * last counts. A failing collection (e.g. refused credentials) ends the window early. Returns a note when the
 * window closed while the collector was lost (its worker died): the counts it stored until then are kept.
 */
async function collectWindow(input: SyncInput, runKey: string, workflowId: string): Promise<string | undefined> {
  const { collectConnectorCounts } = proxyActivities<SyncActivities>({
    summary: `Listen to MQTT for ${input.collectorDurationMs} ms`,
    // The window plus time to connect and store the last counts.
    startToCloseTimeout: input.collectorDurationMs + 5 * 60_000,
    // Counts are stored and heartbeated every second: a lost worker is noticed, and replaced, within seconds.
    heartbeatTimeout: '10s',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '15s',
      nonRetryableErrorTypes: [ERROR_TYPES.mqttRefused, ERROR_TYPES.database, ERROR_TYPES.configuration, ERROR_TYPES.tls],
    },
  });
  const windowScope = new CancellationScope();
  const windowEndsAt = new Date(Date.now() + input.collectorDurationMs).toISOString();
  const base = { runKey, workflowId, account: input.account, maxConnectors: input.maxConnectors, windowEndsAt };
  // One collector: the plain subscription, scheduled exactly as before shared subscriptions existed (so that older
  // histories replay). More: one activity each, splitting the stream over the run's shared subscription.
  const of = input.collectors ?? 1;
  const collectors = windowScope.run(() =>
    Promise.resolve(of <= 1 ? [collectConnectorCounts(base)] : Array.from({ length: of }, (_, index) => collectConnectorCounts({ ...base, collector: { index, of } }))),
  );
  const scheduled = await collectors;
  try {
    const windowTimer = (): Promise<void> => sleep(input.collectorDurationMs, { summary: 'Collection window' });
    await Promise.race([patched(WINDOW_TIMER_PATCH) ? windowScope.run(windowTimer) : windowTimer(), Promise.all(scheduled)]);
  } finally {
    // The window has closed, or a collection failed (and the others stop with it).
    windowScope.cancel();
  }
  const lost = `${of > 1 ? 'a collector' : 'the collector'} was lost near the end of the window (worker stopped); counts stored until then are used`;
  let note: string | undefined;
  let failure: Error | undefined;
  // Every collector settles first (each stores its last counts on cancellation), so that a failing one never
  // leaves the others running after the run has ended.
  for (const settled of await Promise.allSettled(scheduled)) {
    if (settled.status === 'fulfilled') {
      // A collector whose worker died near the end is retried by the server when its heartbeat times out; when that
      // retry starts after the window has closed, it does not listen and says so.
      if (settled.value?.windowClosedBeforeRetry) note = lost;
      continue;
    }
    const err: unknown = settled.reason;
    if (isCancellation(err)) continue;
    // The server does not retry an activity whose cancellation was requested: a collector whose worker died near
    // the end of the window times out instead. What it stored is complete up to its last heartbeat.
    if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) {
      note = lost;
      continue;
    }
    failure ??= err instanceof Error ? err : new Error(String(err));
  }
  if (failure !== undefined) throw failure;
  if (note !== undefined) log.warn(note);
  return note;
}
