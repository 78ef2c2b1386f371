/**
 * A run's text, written in one place: the plan's headline, the outcome line and the approval mode, as the Web UI's
 * details, the memo (`cp-sync list`), notifications, the worker's log and the CLI show them. Pure: no I/O, so the
 * workflow sandbox can use it too.
 */
import { isFinal } from './phases';
import { formatDuration } from './duration';
import { topicFilterFor } from './topic';
import type { BrokerConnectionProblem, PlanSummary, SyncInput, SyncStatus } from '../shared';

type PlanCounts = Pick<PlanSummary, 'pointsToCreate' | 'stationsToChange'>;

/** "37 points to create on 21 stations". */
export function pointsToCreate(plan: PlanCounts): string {
  return `${plan.pointsToCreate} points to create on ${plan.stationsToChange} stations`;
}

/** "Plan a1b2c3d4e5f60718: 37 points to create on 21 stations". */
export function planHeadline(plan: PlanCounts & Pick<PlanSummary, 'fingerprint'>): string {
  return `Plan ${plan.fingerprint}: ${pointsToCreate(plan)}`;
}

/** The auto-approve limits of a run, "auto-approve up to 50 points and 10 stations"; undefined without limits. */
export function autoApproveLimits(input: Pick<SyncInput, 'autoApproveMaxPoints' | 'autoApproveMaxStations'>): string | undefined {
  const limits = [
    input.autoApproveMaxPoints !== undefined ? `${input.autoApproveMaxPoints} points` : undefined,
    input.autoApproveMaxStations !== undefined ? `${input.autoApproveMaxStations} stations` : undefined,
  ].filter((limit): limit is string => limit !== undefined);
  return limits.length > 0 ? `auto-approve up to ${limits.join(' and ')}` : undefined;
}

/**
 * How the run's plan gets decided: `dry run` (never), `auto-approve` (any plan), the limits (a plan within them),
 * or `approval` (an operator). The input's validation makes these exclusive.
 */
export function approvalMode(input: SyncInput): string {
  if (input.dryRun) return 'dry run';
  if (input.autoApprove) return 'auto-approve';
  return autoApproveLimits(input) ?? 'approval';
}

/**
 * One line saying how an ended run ended, for the Web UI (first line of its details), `cp-sync list` (memo) and the
 * notification: "applied: 37 points created on 21 stations; approved by alice@ops". Undefined while it runs.
 */
export function outcomeLine(status: SyncStatus): string | undefined {
  if (!isFinal(status.phase)) return undefined;
  const { plan, approval, rejection, apply } = status;
  const points = plan ? `${plan.pointsToCreate} points on ${plan.stationsToChange} stations` : 'no plan';
  switch (status.phase) {
    case 'applied':
      return `applied: ${apply?.created ?? 0} points created on ${apply?.stationsChanged ?? 0} stations; approved by ${approval?.by ?? 'unknown'}`;
    case 'nothing-to-do':
      return `nothing to do: ${plan?.processedDevices ?? 0} devices in sync`;
    case 'dry-run':
      return `dry run: ${points} would be created`;
    case 'rejected':
      return `rejected by ${rejection?.by ?? 'unknown'}${rejection?.reason ? `: ${rejection.reason}` : ''}; nothing written`;
    case 'expired':
      return `expired: ${points} not approved before ${status.approvalDeadline ?? 'the deadline'}; nothing written`;
    case 'heard-nothing':
      return `heard nothing: no device sent a valid message during the window${plan ? ` (${plan.messages} messages, ${plan.rejected} rejected)` : ''}; nothing planned`;
    case 'cancelled':
      return `cancelled${status.cancelledDuring ? ` while ${status.cancelledDuring}` : ''}${status.rolledBack ? '; the transaction was rolled back' : ''}; nothing written`;
    case 'terminated':
      return `terminated${status.error ? `: ${status.error}` : ''}`;
    default:
      return `failed during ${status.failedDuring ?? 'the run'}: ${status.error ?? 'unknown error'}`;
  }
}

/** How Temporal wraps an activity's failure; the operator needs what it wraps (the setting, the OS error). */
const ACTIVITY_WRAPPER = 'Activity task failed';

/**
 * An error text without Temporal's `Activity task failed: ` wrapper: for texts recorded by earlier versions, which
 * kept it. A text that is only the wrapper stays (it is all there is).
 */
export function withoutActivityWrapper(text: string): string {
  return text.startsWith(`${ACTIVITY_WRAPPER}: `) ? text.slice(ACTIVITY_WRAPPER.length + 2) : text;
}

/**
 * What a failed run says went wrong, in the operator's language: the error with its cause (the activity's own
 * failure names the setting and the OS error), without the wrapper that only says an activity failed.
 */
export function failureText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const text = err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
  return withoutActivityWrapper(text);
}

/** The collector's trouble reaching the broker, for `status`, `run` and the Web UI: the message names the setting. */
export function connectionLine(problem: Pick<BrokerConnectionProblem, 'message'>): string {
  return `cannot reach the MQTT broker: ${problem.message}`;
}

/**
 * The WARN of a run that heard nothing, naming what to check: the account, the broker (CLOUD_HOST) and the topic
 * filter it listened to. The worker logs it and the CLI prints it.
 */
export function heardNothingWarning(input: Pick<SyncInput, 'account' | 'collectorDurationMs'>): string {
  const account = input.account === undefined ? 'all accounts (no --account)' : `--account ${input.account}`;
  return (
    `Heard nothing: no device sent a valid message on ${topicFilterFor(input.account)} during the ${formatDuration(input.collectorDurationMs)} window. ` +
    `Check ${account} (is it spelled as the devices publish it?), CLOUD_HOST (the broker the devices publish to) and the topic filter`
  );
}
