/**
 * `cp-sync watch`: the always-on reconciliation. Collectors listen without a window (activities/watch-collect.ts);
 * every interval a cycle plans only the devices that changed (activities/watch-cycle.ts) and applies the plan with
 * the sync's apply when it is within the auto-approve limits, or lets it wait for an operator (approve/reject, as
 * for a sync) while collection goes on; a newer cycle's plan supersedes a waiting one. The run continues as new
 * every `cyclesPerRun` cycles or when Temporal suggests it, carrying its totals and the waiting plan; the
 * collectors' MQTT sessions outlive the run, so nothing published in between is lost. `stop` ends it cleanly.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { ACTIVITY, DECISION_REFUSED, type ActivityRetry, type ApprovalRecord, type BrokerConnectionProblem, type ApproveSignal, type RejectionRecord, type PlanSummary, type RejectSignal, type SyncInput } from '../shared';
import { formatDuration } from '../domain/duration';
import { tooManySilent } from '../domain/silence';
import { DEFAULT_CYCLES_PER_RUN, DEFAULT_SILENCE_HORIZON_MS, type WatchCarry, type WatchInput, type WatchStatus, type WatchStopRequest } from '../watch-shared';
import { autoDecision } from './auto-approve';
import type { Verdict } from './decision';
import { logRefused } from './decision-log';
import { activityRetryingSignal, approveSignal, approveUpdate, collectorConnectionSignal, rejectSignal, rejectUpdate } from './definitions';
import { applyMissingPoints, collectWatchCounts, endWatchSessions, planWatchCycle, sendNotification } from './watch-activities';
import { judgeWatchApproval, judgeWatchRejection, type WatchDecision as Decision, type WatchDecisionState } from './watch-decision';
import { stopWatchSignal, stopWatchUpdate, watchStatusQuery } from './watch-definitions';
import { watchDetails } from './watch-details';
import { recordApplied, recordCycle } from './watch-metrics';
import { validateWatchInput } from './watch-input';
import { awaitApproval, carryOf, failureMessage, cycleRecord, initialStatus, recordCreated, showPending, supersede } from './watch-state';
import { CP_SYNC_PHASE, CP_SYNC_POINTS_TO_CREATE } from './visibility';

const REFUSALS_KEPT = 10;
/** A cycle's plan equal to the waiting one (same fingerprint) leaves it waiting instead of superseding and notifying it again. */
const SAME_PLAN_WAITS_PATCH = 'watch-same-plan-waits';
/** A run that lives this long continues as new even at long intervals: its collectors' start-to-close is 2 days. */
const MAX_RUN_MS = 24 * 3_600_000;
/** A cycle whose plan failed for good no longer fails the watch (see runCycle). */
const FAILED_CYCLE_PATCH = 'watch-survives-failed-cycle';

export async function watchChargingPoints(rawInput: WatchInput, carried?: WatchCarry): Promise<WatchStatus> {
  const input = validateWatchInput(rawInput);
  const { workflowId, runId } = workflowInfo();
  const runStartedAt = Date.now();
  const status = initialStatus(input, carried, new Date());
  let planning = false;
  let decision: Decision | undefined;
  let stopRequest: WatchStopRequest | undefined;
  let shownPhase: string | undefined;

  const tell = (): void => {
    setCurrentDetails(watchDetails(status));
    if (status.phase !== shownPhase) {
      upsertSearchAttributes([
        { key: CP_SYNC_PHASE, value: status.phase },
        { key: CP_SYNC_POINTS_TO_CREATE, value: status.pending?.plan.pointsToCreate ?? 0 },
      ]);
      shownPhase = status.phase;
    }
  };
  const state = (): WatchDecisionState => ({ pending: status.pending, superseded: status.superseded, planning, stopping: stopRequest !== undefined });
  // The reason alone, without the worker's stack and source paths (the Web UI shows what an Update's caller gets).
  const refusal = (reason: string): ApplicationFailure => Object.assign(ApplicationFailure.create({ type: DECISION_REFUSED, message: reason, nonRetryable: true }), { stack: '' });
  const now = (): string => new Date().toISOString();

  setHandler(watchStatusQuery, () => status);
  /** The verdict's record, once taken; a refusal is thrown (an Update's caller hears it, a signal's is recorded). */
  const accepted = <T>(verdict: Verdict<T>): T => {
    if ('refused' in verdict) throw refusal(verdict.refused);
    return verdict.accepted;
  };
  /** A decision taken: the cycle loop carries it out; the status shows it at once. */
  const decided = <T>(next: NonNullable<typeof decision>, record: T): T => {
    decision = next;
    tell();
    return record;
  };
  const approve = (request?: ApproveSignal): ApprovalRecord => {
    const record = accepted(judgeWatchApproval(state(), request, now()));
    status.lastApproval = record;
    return decided({ approve: true, by: record.by, fingerprint: record.fingerprint }, record);
  };
  const reject = (request?: RejectSignal): RejectionRecord => {
    const record = accepted(judgeWatchRejection(state(), request, now()));
    status.lastRejection = record;
    return decided({ approve: false, by: record.by, reason: record.reason }, record);
  };
  const validate = (verdict: Verdict<unknown>): void => void accepted(verdict);
  setHandler(approveUpdate, approve, { validator: (request?: ApproveSignal) => validate(judgeWatchApproval(state(), request, now())) });
  setHandler(rejectUpdate, reject, { validator: (request?: RejectSignal) => validate(judgeWatchRejection(state(), request, now())) });
  // A signal cannot answer: its refusal is recorded for `status` and the Web UI, with who sent it (as a sync's is).
  const refusedSignal = (list: 'refusedApprovals' | 'refusedRejections', what: 'Approval' | 'Rejection', verdict: Verdict<unknown>): boolean => {
    if (!('refused' in verdict)) return false;
    const refused = { by: verdict.by, fingerprint: verdict.fingerprint, reason: verdict.refused };
    logRefused(what, refused);
    status[list] = [...status[list], { ...refused, at: now() }].slice(-REFUSALS_KEPT);
    tell();
    return true;
  };
  setHandler(approveSignal, (request?: ApproveSignal) => void (refusedSignal('refusedApprovals', 'Approval', judgeWatchApproval(state(), request, now())) || approve(request)));
  setHandler(rejectSignal, (request?: RejectSignal) => void (refusedSignal('refusedRejections', 'Rejection', judgeWatchRejection(state(), request, now())) || reject(request)));
  const stop = (request?: WatchStopRequest): WatchStatus => {
    stopRequest ??= request ?? {};
    status.stopping = true;
    tell();
    return status;
  };
  setHandler(stopWatchUpdate, async (request?: WatchStopRequest) => {
    stop(request);
    // Answers once the watch has stopped: `cp-sync watch stop` returns when the sessions are gone.
    await condition(() => status.phase === 'stopped');
    return status;
  });
  setHandler(stopWatchSignal, (request?: WatchStopRequest) => void stop(request));
  /** Which activity's failed attempt `status.error` shows: its next success clears it. */
  let retrying: string | undefined;
  // A collector that cannot reach the broker says so, and once it is over (activities/collector-connect.ts).
  setHandler(collectorConnectionSignal, (problem: BrokerConnectionProblem | null) => {
    status.brokerProblem = problem ?? undefined;
    tell();
  });
  setHandler(activityRetryingSignal, (retry: ActivityRetry) => {
    status.error = `${retry.activity} attempt ${retry.attempt - 1} failed (${retry.lastFailure}); retrying`;
    retrying = retry.activity;
    tell();
  });
  tell();

  // This run's collectors: one, or several on the watch's shared subscription.
  const of = input.collectors ?? 1;
  const collectScope = new CancellationScope();
  const collectors = await collectScope.run(() =>
    Promise.resolve(Array.from({ length: of }, (_, index) => collectWatchCounts({ workflowId, account: input.account, maxConnectors: input.maxConnectors, collector: of > 1 ? { index, of } : undefined }))),
  );
  let collectorFailure: Error | undefined;
  for (const collector of collectors) {
    collector.catch((err: unknown) => {
      if (!isCancellation(err)) collectorFailure ??= err instanceof Error ? err : new Error(`a collector failed: ${JSON.stringify(err)}`);
    });
  }
  const stopCollectors = async (): Promise<void> => {
    collectScope.cancel();
    await Promise.allSettled(collectors);
  };

  const applyPlan = async (runKey: string, plan: PlanSummary, oldestHeard: string | undefined): Promise<number> => {
    try {
      const result = await applyMissingPoints({ runKey, fingerprint: plan.fingerprint });
      recordCreated(status, result, new Date());
      recordApplied(oldestHeard, result.created);
      status.error = retrying = undefined;
      return result.created;
    } catch (err) {
      // The watch goes on: the failure is shown, and the next change of these devices plans them again.
      status.error = `applying plan ${plan.fingerprint} failed: ${failureMessage(err)}`;
      retrying = undefined;
      log.error(status.error);
      return 0;
    }
  };

  const notifyWaiting = (plan: PlanSummary, waitReason: string | undefined): void => {
    const { pointsToCreate, stationsToChange, processedDevices, notFound, rejected, fingerprint } = plan;
    void CancellationScope.nonCancellable(() =>
      sendNotification({ event: 'awaiting-approval', workflowId, runId, plan: { fingerprint, pointsToCreate, stationsToChange, processedDevices, notFound, rejected }, autoApproveExceeded: waitReason }),
    ).catch((err: unknown) => log.warn('Notification failed', { error: err instanceof Error ? err.message : String(err) }));
  };

  const takeDecision = async (): Promise<void> => {
    const taken = decision;
    const pending = status.pending;
    decision = undefined;
    if (!taken || !pending) return;
    status.pending = null;
    if (taken.approve) {
      const created = await applyPlan(pending.runKey, pending.plan, pending.oldestHeard);
      if (status.lastCycle) status.lastCycle = { ...status.lastCycle, created: status.lastCycle.created + created };
    }
    showPending(status);
    tell();
  };

  /**
   * With --max-silent-stations, once the watch has listened for the horizon: the cycle counts the live stations not
   * heard within it. Before that, not heard yet is not silence; without the option nothing is asked (and the
   * activity's input stays what earlier versions recorded).
   */
  const silenceAsked = (): { silenceSince?: string } => {
    if (input.maxSilentStations === undefined) return {};
    const horizonMs = input.silenceHorizonMs ?? DEFAULT_SILENCE_HORIZON_MS;
    return Date.now() - Date.parse(status.startedAt) >= horizonMs ? { silenceSince: new Date(Date.now() - horizonMs).toISOString() } : {};
  };

  const runCycle = async (): Promise<void> => {
    const cycle = status.cycles + 1;
    const startedMs = Date.now();
    planning = true;
    let outcome;
    try {
      outcome = await planWatchCycle({ workflowId, cycle, fromCycle: status.pending?.fromCycle ?? cycle, ...silenceAsked() });
    } catch (err) {
      // Retries spent (a database away for minutes) or not retryable: the watch goes on. The next cycle takes this
      // number (claim and plan are idempotent by number): it plans what this one claimed. Older runs failed here.
      if (isCancellation(err) || !patched(FAILED_CYCLE_PATCH)) throw err;
      status.error = `cycle ${cycle} failed: ${failureMessage(err)}; the next cycle plans its devices again`;
      retrying = ACTIVITY.watchPlan;
      log.error(status.error);
      tell();
      return;
    } finally {
      planning = false;
    }
    // A plan that failed, then succeeded (a database back) leaves no error behind, even with nothing to apply.
    if (retrying === ACTIVITY.watchPlan) status.error = retrying = undefined;
    status.cycles = cycle;
    status.devicesHeard += outcome.newDevices;
    const record = cycleRecord(cycle, new Date(), outcome.changedDevices, outcome.plan);
    status.lastCycle = record;
    const { plan, runKey } = outcome;
    if (plan && runKey) {
      status.lastPlan = { cycle, runKey, plan };
      const fromCycle = status.pending?.fromCycle ?? cycle;
      const auto = autoDecision(input as unknown as SyncInput, plan);
      // A plan that may rest on a broken feed waits for a person, within the limits or not (as a sync's does).
      const silence = outcome.silence && tooManySilent({ silentStations: outcome.silence.silentStations, stationsInDatabase: outcome.silence.liveStations }, input.maxSilentStations);
      const applyNow = 'approver' in auto && silence === undefined;
      const waiting = status.pending;
      if (plan.pointsToCreate > 0 && !applyNow && waiting?.plan.fingerprint === plan.fingerprint && patched(SAME_PLAN_WAITS_PATCH)) {
        // The same plan again (a device without a station heard again is planned again): the waiting plan stays,
        // under its fingerprint and notification; superseding it would notify the same plan every cycle.
        record.decision = 'awaiting-approval';
      } else {
        supersede(status, cycle);
        if (plan.pointsToCreate > 0 && applyNow) {
          record.decision = 'applied';
          record.created = await applyPlan(runKey, plan, outcome.oldestHeard);
        } else if (plan.pointsToCreate > 0) {
          record.decision = 'awaiting-approval';
          const waitReason = silence ?? ('waitReason' in auto ? auto.waitReason : undefined);
          awaitApproval(status, { cycle, runKey, plan, since: new Date().toISOString(), autoApproveExceeded: waitReason, fromCycle, oldestHeard: outcome.oldestHeard });
          notifyWaiting(plan, waitReason);
        }
      }
    }
    recordCycle(Date.now() - startedMs, record.pointsToCreate, record.decision);
    tell();
  };

  let cyclesThisRun = 0;
  let nextCycleAt = Date.now() + input.intervalMs;
  const perRun = input.cyclesPerRun ?? DEFAULT_CYCLES_PER_RUN;
  for (;;) {
    const wakeUp = (): boolean => stopRequest !== undefined || decision !== undefined || collectorFailure !== undefined;
    await condition(wakeUp, Math.max(1, nextCycleAt - Date.now()), { summary: `Next cycle (interval ${formatDuration(input.intervalMs)})` });
    if (collectorFailure !== undefined) {
      await stopCollectors();
      throw collectorFailure;
    }
    if (stopRequest) break;
    if (decision) {
      await takeDecision();
      continue;
    }
    nextCycleAt = Date.now() + input.intervalMs;
    await runCycle();
    cyclesThisRun++;
    if (cyclesThisRun >= perRun || workflowInfo().continueAsNewSuggested || Date.now() - runStartedAt >= MAX_RUN_MS) break;
  }

  // Continue as new unless a stop came: the collectors store their counts and leave their sessions to the next run's.
  // A decision taken meanwhile is carried out here; a stop ends the watch (its Update waits for the end, not handlers).
  await stopCollectors();
  while (stopRequest === undefined) {
    if (decision !== undefined) {
      await takeDecision();
      continue;
    }
    await condition(() => allHandlersFinished() || stopRequest !== undefined || decision !== undefined);
    if (stopRequest === undefined && decision === undefined) return continueAsNew<typeof watchChargingPoints>(input, carryOf(status));
  }

  if (status.pending) log.info(`Watch stopped: plan ${status.pending.plan.fingerprint} of cycle ${status.pending.cycle} withdrawn`);
  status.pending = null;
  await endWatchSessions({ workflowId, collectors: of }).catch((err: unknown) => {
    status.error = `could not end the MQTT sessions (they expire by themselves): ${err instanceof Error ? err.message : String(err)}`;
  });
  status.stopping = false;
  status.phase = 'stopped';
  showPending(status);
  tell();
  await condition(allHandlersFinished);
  return status;
}
