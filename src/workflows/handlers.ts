/**
 * The workflow's message handlers: the status query, approve and reject (each an Update with a validator and a
 * signal of the same name) and the internal signals by which a failing activity attempt reports its retry and a
 * collector its trouble reaching the broker. Each has a description: the Web UI shows it in its Query, Signal and
 * Update dialogs.
 */
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { ApplicationFailure, patched, setHandler } from '@temporalio/workflow';
import { ACTIVITY, DECISION_REFUSED, type ActivityRetry, type ApprovalRecord, type ApproveSignal, type BrokerConnectionProblem, type RejectionRecord, type RejectSignal, type Phase, type RefusedDecision, type SyncStatus } from '../shared';
import { judgeApproval, judgeRejection, REJECTION_DATA, type DecisionRules, type Verdict } from './decision';
import { logApproved, logRefused, logRejected } from './decision-log';
import { activityRetryingSignal, approveSignal, approveUpdate, collectorConnectionSignal, rejectSignal, rejectUpdate, statusQuery } from './definitions';
import type { RunTracker } from './run-status';

/** Refused decisions kept in the status, newest last. */
const REFUSALS_KEPT = 10;

/** Guards the rule that a decision names who made it: runs recorded before it accepted one without `by`. */
export const DECIDER_REQUIRED_PATCH = 'decision-needs-by';

/** The activity each phase runs, for the retries it may report. */
const ACTIVITY_OF_PHASE: Partial<Record<Phase, string>> = { planning: ACTIVITY.plan, applying: ACTIVITY.apply };

const APPROVE_DATA = '{"fingerprint":"<the plan\'s fingerprint, see Current Details>","by":"<your name>","comment":"<optional>"}';

/** What the Web UI's dialogs say about each message. */
export const DESCRIPTIONS = {
  status: "The run's status: phase, plan, decisions, retries (what cp-sync status shows).",
  approveUpdate: `Approve the plan awaiting approval: it is written to ocpp-db. Data: ${APPROVE_DATA}. Refused, with the reason and nothing written, without "by", for another plan's fingerprint, or when nothing awaits approval.`,
  approveSignal: `Approve the plan awaiting approval (prefer the Update: it answers). Data: ${APPROVE_DATA}. A refusal (no "by", another fingerprint, nothing awaiting) shows in Current Details.`,
  rejectUpdate: `Reject the run while it collects, plans or awaits approval: it ends and writes nothing. Data: ${REJECTION_DATA}. Refused without "by" or once the write has started.`,
  rejectSignal: `Reject the run while it collects, plans or awaits approval (prefer the Update: it answers). Data: ${REJECTION_DATA}. A refusal shows in Current Details.`,
  activityRetrying: 'Internal, not for operators: the worker sends it when a plan or apply attempt failed and is retried, for the status to show. Sending it decides nothing.',
  collectorConnection: "Internal, not for operators: a collector sends it when it cannot reach the MQTT broker (or reaches it again), for the status to show. Sending it decides nothing.",
} as const;

/** One kind of decision (approve or reject), as both its Update and its signal take it. */
interface DecisionKind<Request, Decision> {
  update: UpdateDefinition<Decision, [Request]>;
  signal: SignalDefinition<[Request?]>;
  descriptions: { update: string; signal: string };
  judge: (status: SyncStatus, request: Request | undefined, now: string, rules: DecisionRules) => Verdict<Decision>;
  /** Records the decision in the status and logs it. */
  accept: (status: SyncStatus, decision: Decision) => void;
  what: 'Approval' | 'Rejection';
  refusals: 'refusedApprovals' | 'refusedRejections';
}

const APPROVAL: DecisionKind<ApproveSignal, ApprovalRecord> = {
  update: approveUpdate, signal: approveSignal, judge: judgeApproval, what: 'Approval', refusals: 'refusedApprovals',
  descriptions: { update: DESCRIPTIONS.approveUpdate, signal: DESCRIPTIONS.approveSignal },
  accept: (s, approval) => { s.approval = approval; logApproved(approval, s.plan, s.input); },
};

const REJECTION: DecisionKind<RejectSignal, RejectionRecord> = {
  update: rejectUpdate, signal: rejectSignal, judge: judgeRejection, what: 'Rejection', refusals: 'refusedRejections',
  descriptions: { update: DESCRIPTIONS.rejectUpdate, signal: DESCRIPTIONS.rejectSignal },
  accept: (s, rejection) => { s.rejection = rejection; logRejected(rejection, s.phase); },
};

export function installHandlers(run: RunTracker): void {
  const { status } = run;
  // Decided once per run, at its start: a run recorded before the rule replays its decisions as it took them.
  const rules: DecisionRules = { byRequired: patched(DECIDER_REQUIRED_PATCH) };
  setHandler(statusQuery, () => status, { description: DESCRIPTIONS.status });
  handleDecision(run, rules, APPROVAL);
  handleDecision(run, rules, REJECTION);
  // A failed attempt that Temporal retries says so (the workflow does not see attempts by itself). Only the current
  // phase's activity counts: a late signal from an activity that has ended is ignored.
  setHandler(
    activityRetryingSignal,
    (retry: ActivityRetry) => {
      if (ACTIVITY_OF_PHASE[status.phase] !== retry?.activity) return;
      status.retry = retry;
      run.tell();
    },
    { description: DESCRIPTIONS.activityRetrying },
  );
  // Heartbeats are throttled (up to 8 s apart); the collector signals each new problem so that it shows at once.
  // A signal only sets the status: it adds no command, so histories recorded before it replay unchanged.
  setHandler(
    collectorConnectionSignal,
    (problem: BrokerConnectionProblem | null) => {
      if (status.phase !== 'collecting') return;
      status.connectionError = problem ?? undefined;
      run.tell();
    },
    { description: DESCRIPTIONS.collectorConnection },
  );
}

/** A refusal as the caller sees it: the reason alone, without the worker's stack and source paths. */
function refusal(reason: string): ApplicationFailure {
  const failure = ApplicationFailure.create({ type: DECISION_REFUSED, message: reason, nonRetryable: true });
  failure.stack = '';
  return failure;
}

/**
 * One decision function for both paths: an Update is refused in its validator (nothing enters the history), a
 * signal cannot answer, so its refusal is recorded in the status for `cp-sync status` and the Web UI.
 */
function handleDecision<Request, Decision>(run: RunTracker, rules: DecisionRules, kind: DecisionKind<Request, Decision>): void {
  const { status } = run;
  const judge = (request?: Request): Verdict<Decision> => kind.judge(status, request, new Date().toISOString(), rules);
  const refused = (verdict: { refused: string; by: string; fingerprint?: string }) => ({ by: verdict.by, fingerprint: verdict.fingerprint, reason: verdict.refused });
  const decide = (request?: Request): Decision => {
    const verdict = judge(request);
    if ('refused' in verdict) throw refusal(verdict.refused);
    kind.accept(status, verdict.accepted);
    run.tell();
    return verdict.accepted;
  };
  setHandler(kind.update, decide, {
    description: kind.descriptions.update,
    validator: (request?: Request) => {
      const verdict = judge(request);
      if (!('refused' in verdict)) return;
      logRefused(kind.what, refused(verdict));
      throw refusal(verdict.refused);
    },
  });
  setHandler(
    kind.signal,
    (request?: Request) => {
      const verdict = judge(request);
      if ('accepted' in verdict) return void decide(request);
      logRefused(kind.what, refused(verdict));
      const record: RefusedDecision = { ...refused(verdict), at: new Date().toISOString() };
      status[kind.refusals] = [...status[kind.refusals], record].slice(-REFUSALS_KEPT);
      run.tell();
    },
    { description: kind.descriptions.signal },
  );
}
