/**
 * The workflow's message handlers: the status query, approve and reject (each an Update with a validator and a
 * signal of the same name) and the internal signals by which a failing activity attempt reports its retry and a
 * collector its trouble reaching the broker.
 */
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, log, setHandler } from '@temporalio/workflow';
import { ACTIVITY, DECISION_REFUSED, type ActivityRetry, type BrokerConnectionProblem, type Phase, type RefusedDecision, type SyncStatus } from '../shared';
import { judgeApproval, judgeRejection, type Verdict } from './decision';
import { activityRetryingSignal, approveSignal, collectorConnectionSignal, approveUpdate, rejectSignal, rejectUpdate, statusQuery } from './definitions';
import type { RunTracker } from './run-status';

/** Refused decisions kept in the status, newest last. */
const REFUSALS_KEPT = 10;

/** The activity each phase runs, for the retries it may report. */
const ACTIVITY_OF_PHASE: Partial<Record<Phase, string>> = { planning: ACTIVITY.plan, applying: ACTIVITY.apply };

/** One kind of decision (approve or reject), as both its Update and its signal take it. */
interface DecisionKind<Request, Decision> {
  update: UpdateDefinition<Decision, [Request]>;
  signal: SignalDefinition<[Request?]>;
  judge: (status: SyncStatus, request: Request | undefined, now: string) => Verdict<Decision>;
  accept: (status: SyncStatus, decision: Decision) => void;
  /** The log line of a refused signal, e.g. "Approval refused". */
  refusedLine: string;
  refusals: 'refusedApprovals' | 'refusedRejections';
}

export function installHandlers(run: RunTracker): void {
  const { status } = run;
  setHandler(statusQuery, () => status);
  handleDecision(run, {
    update: approveUpdate,
    signal: approveSignal,
    judge: judgeApproval,
    accept: (s, approval) => (s.approval = approval),
    refusedLine: 'Approval refused',
    refusals: 'refusedApprovals',
  });
  handleDecision(run, {
    update: rejectUpdate,
    signal: rejectSignal,
    judge: judgeRejection,
    accept: (s, rejection) => (s.rejection = rejection),
    refusedLine: 'Rejection refused',
    refusals: 'refusedRejections',
  });
  // A failed attempt that Temporal retries says so (the workflow does not see attempts by itself). Only the current
  // phase's activity counts: a late signal from an activity that has ended is ignored.
  setHandler(activityRetryingSignal, (retry: ActivityRetry) => {
    if (ACTIVITY_OF_PHASE[status.phase] !== retry?.activity) return;
    status.retry = retry;
    run.tell();
  });
  // Heartbeats are throttled (up to 8 s apart); the collector signals each new problem so that it shows at once.
  // A signal only sets the status: it adds no command, so histories recorded before it replay unchanged.
  setHandler(collectorConnectionSignal, (problem: BrokerConnectionProblem | null) => {
    if (status.phase !== 'collecting') return;
    status.connectionError = problem ?? undefined;
    run.tell();
  });
}

/**
 * One decision function for both paths: an Update is refused in its validator (nothing enters the history), a
 * signal cannot answer, so its refusal is recorded in the status for `cp-sync status` and the Web UI.
 */
function handleDecision<Request, Decision>(run: RunTracker, kind: DecisionKind<Request, Decision>): void {
  const { status } = run;
  const judge = (request?: Request): Verdict<Decision> => kind.judge(status, request, new Date().toISOString());
  const refusal = (verdict: { refused: string }): ApplicationFailure =>
    ApplicationFailure.create({ type: DECISION_REFUSED, message: verdict.refused, nonRetryable: true });
  const decide = (request?: Request): Decision => {
    const verdict = judge(request);
    if ('refused' in verdict) throw refusal(verdict);
    kind.accept(status, verdict.accepted);
    run.tell();
    return verdict.accepted;
  };
  setHandler(kind.update, decide, {
    validator: (request?: Request) => {
      const verdict = judge(request);
      if ('refused' in verdict) throw refusal(verdict);
    },
  });
  setHandler(kind.signal, (request?: Request) => {
    const verdict = judge(request);
    if ('accepted' in verdict) return void decide(request);
    const refused = { by: verdict.by, fingerprint: verdict.fingerprint, reason: verdict.refused };
    log.warn(kind.refusedLine, refused);
    const record: RefusedDecision = { ...refused, at: new Date().toISOString() };
    status[kind.refusals] = [...status[kind.refusals], record].slice(-REFUSALS_KEPT);
    run.tell();
  });
}
