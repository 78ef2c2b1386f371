import {
  ActivityCancellationType,
  ActivityFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
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
  ERROR_TYPES,
  type ActivityRetry,
  type ApproveSignal,
  type Phase,
  type RejectSignal,
  type RetrySettings,
  type SyncInput,
  type SyncResult,
  type SyncStatus,
} from '../shared';
import { activityRetryingSignal, approveSignal, rejectSignal, statusQuery } from './definitions';
import { currentDetails } from './details';
import { recordPhase } from './metrics';
import { validateSyncInput } from './input';
import { resultOf } from './result';

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

function text(value: unknown, max = 500): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, max) : undefined;
}

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
  const tell = (): void => setCurrentDetails(currentDetails(status));
  let awaitingSince: Date | undefined;
  const setPhase = (phase: Phase): void => {
    if (phase === 'awaiting-approval') awaitingSince = new Date();
    recordPhase(status.phase, phase, awaitingSince);
    status.phase = phase;
    tell();
  };
  tell();

  setHandler(approveSignal, (signal?: ApproveSignal) => {
    const by = text(signal?.by, 200) ?? 'unknown';
    const fingerprint = text(signal?.fingerprint, 64);
    const refuse = (reason: string): void => {
      log.warn('Approval refused', { by, fingerprint, reason });
      status.refusedApprovals = [...status.refusedApprovals, { by, fingerprint, reason, at: new Date().toISOString() }].slice(-REFUSALS_KEPT);
      tell();
    };
    if (status.phase !== 'awaiting-approval' || !status.plan) return refuse(`nothing awaits approval (phase ${status.phase})`);
    if (decided()) return refuse(status.approval ? `already approved by ${status.approval.by}` : 'already rejected');
    if (fingerprint !== undefined && fingerprint !== status.plan.fingerprint) {
      return refuse(`fingerprint ${fingerprint} is not the current plan's (${status.plan.fingerprint})`);
    }
    status.approval = { by, comment: text(signal?.comment), at: new Date().toISOString(), fingerprint: status.plan.fingerprint, auto: false };
    tell();
  });

  setHandler(rejectSignal, (signal?: RejectSignal) => {
    const by = text(signal?.by, 200) ?? 'unknown';
    // A rejection counts at any time before a decision and before the write starts; afterwards it is too late.
    const tooLate = status.approval ? `already approved by ${status.approval.by}` : status.rejection ? 'already rejected' : undefined;
    if (tooLate !== undefined || ['applying', 'applied', 'failed'].includes(status.phase)) {
      const reason = tooLate ?? `too late: the run is ${status.phase}`;
      log.warn('Rejection refused', { by, reason });
      status.refusedRejections = [...status.refusedRejections, { by, reason, at: new Date().toISOString() }].slice(-REFUSALS_KEPT);
      tell();
      return;
    }
    status.rejection = { by, reason: text(signal?.reason), at: new Date().toISOString() };
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

  const finish = (phase: Phase): SyncResult => {
    setPhase(phase);
    return resultOf(status);
  };

  try {
    status.collectionNote = await collectWindow(input, runId, workflowId);

    setPhase('planning');
    const plan = settled(await diffStations({ runKey: runId, testDeviceId: input.testDeviceId }));
    status.plan = plan;

    if (status.rejection) return finish('rejected');
    if (plan.pointsToCreate === 0) return finish('nothing-to-do');
    if (input.dryRun) return finish('dry-run');

    if (input.autoApprove) {
      status.approval = { by: 'auto-approve', at: new Date().toISOString(), fingerprint: plan.fingerprint, auto: true };
    } else {
      status.approvalDeadline = new Date(Date.now() + input.approvalTimeoutMs).toISOString();
      setPhase('awaiting-approval');
      if (!(await condition(decided, input.approvalTimeoutMs, { summary: 'Waiting for approval (APPROVAL_TIMEOUT)' }))) return finish('expired');
      if (status.rejection) return finish('rejected');
    }

    setPhase('applying');
    status.apply = settled(await applyMissingPoints({ runKey: runId, fingerprint: plan.fingerprint }));
    return finish('applied');
  } catch (err) {
    status.failedDuring = status.phase;
    status.retry = undefined;
    status.error = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
    setPhase('failed');
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
    await Promise.race([sleep(input.collectorDurationMs, { summary: 'Collection window' }), Promise.all(scheduled)]);
  } finally {
    // The window has closed, or a collection failed (and the others stop with it).
    windowScope.cancel();
  }
  const lost = `${of > 1 ? 'a collector' : 'the collector'} was lost near the end of the window (worker stopped); counts stored until then are used`;
  let note: string | undefined;
  for (const collecting of scheduled) {
    try {
      // A collector whose worker died near the end is retried by the server when its heartbeat times out; when that
      // retry starts after the window has closed, it does not listen and says so.
      const outcome = await collecting;
      if (outcome?.windowClosedBeforeRetry) note = lost;
    } catch (err) {
      if (isCancellation(err)) continue;
      // The server does not retry an activity whose cancellation was requested: a collector whose worker died near
      // the end of the window times out instead. What it stored is complete up to its last heartbeat.
      if (err instanceof ActivityFailure && err.cause instanceof TimeoutFailure) {
        note = lost;
        continue;
      }
      throw err;
    }
  }
  if (note !== undefined) log.warn(note);
  return note;
}
