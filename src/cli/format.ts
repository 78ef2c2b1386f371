/** What the CLI prints for people. Wording of the final report follows the original tool's user guide. */
import { PLAN_SAMPLE_LIMIT, type BrokerConnectionProblem, type CollectionProgress, type CollectorHeartbeat, type PlanSummary, type SyncResult, type SyncStatus } from '../shared';
import { notificationLine, retryLine } from '../workflows/details';
import { connectionLine, heardNothingWarning, outcomeLine, planHeadline } from '../domain/run-text';
import { formatDeadline, formatDuration } from '../domain/duration';
import { renderTable } from '../domain/table';
import { formatWatchStatus, isWatchStatus } from './watch-format';

function list(numbers: readonly number[]): string {
  return numbers.length === 0 ? '-' : numbers.join(',');
}

/** Silent stations are context, not work: the plan shows the first few. */
const SILENT_LINES = 10;

/** The command that lists a whole plan, for the lines that say a list is cut. */
function fullPlanHint(workflowId: string | undefined): string {
  return `cp-sync plan ${workflowId ?? '<workflowId>'} --format csv (or json, sql; --output FILE) lists them all`;
}

function sum(lists: readonly (readonly number[])[]): number {
  return lists.reduce((total, list) => total + list.length, 0);
}

/**
 * The plan for people: its counts and the first entries of each list (the workflow keeps PLAN_SAMPLE_LIMIT). A cut
 * list says how many entries it leaves out and how to get them all.
 */
export function formatPlan(plan: PlanSummary, workflowId?: string): string[] {
  const hint = fullPlanHint(workflowId);
  const lines = [
    planHeadline(plan) +
      (plan.testDeviceId !== undefined ? ` (⚠️  TEST MODE: only device ${plan.testDeviceId} is written)` : ''),
    `  ${plan.processedDevices} unique devices from ${plan.messages} messages · ${plan.stationsInDatabase} stations in the database · ` +
      `${plan.notFound} devices without a station · ${plan.surplusPoints} surplus points (kept) · ${plan.rejected} rejected messages` +
      (plan.skippedStations > 0 ? ` · ${plan.skippedStations} stations skipped (test mode)` : ''),
  ];
  const health = [
    plan.silentStations !== undefined ? `${plan.silentStations} live stations sent nothing during the window` : undefined,
    plan.brokerDroppedMessages !== undefined ? `the broker dropped ${plan.brokerDroppedMessages} messages (all its clients) during the window` : undefined,
    plan.ambiguousDevices ? `${plan.ambiguousDevices} ambiguous devices` : undefined,
  ].filter((part): part is string => part !== undefined);
  if (health.length > 0) lines.push(`  ${health.join(' · ')}`);
  if (plan.stations.length > 0) {
    lines.push('');
    lines.push(
      ...renderTable(
        ['STATION', 'ID', 'DEVICE', 'EXPECTED', 'LIVE', 'CREATE', 'SURPLUS', 'NOTE'],
        plan.stations.map((s) => [
          s.stationName,
          s.stationPk,
          s.deviceId,
          String(s.expected),
          String(s.livePoints),
          s.skipped ? '-' : list(s.missing),
          list(s.surplus),
          s.skipped && s.missing.length > 0 ? `skipped (test mode): ${list(s.missing)}` : '',
        ]),
        { rule: true },
      ).map((l) => `  ${l}`),
    );
    const withPoints = plan.stations.filter((s) => s.missing.length > 0);
    const moreStations = plan.stationsToChange + plan.skippedStations - withPoints.length;
    const moreSurplus = plan.surplusPoints - sum(plan.stations.map((s) => s.surplus));
    if (moreStations > 0 || moreSurplus > 0) {
      const parts = [moreStations > 0 ? `${moreStations} more stations with missing points` : undefined, moreSurplus > 0 ? `${moreSurplus} more surplus points` : undefined];
      lines.push(`  … and ${parts.filter((p) => p !== undefined).join(' and ')}: ${hint}`);
    }
  }
  if (plan.notFoundDeviceIds.length > 0) {
    lines.push('', `Devices without a station (${plan.notFound}):`, ...plan.notFoundDeviceIds.map((id) => `  ${id}`));
    if (plan.notFound > plan.notFoundDeviceIds.length) lines.push(`  … and ${plan.notFound - plan.notFoundDeviceIds.length} more: ${hint}`);
  }
  if (plan.ambiguities && plan.ambiguities.length > 0) {
    lines.push(
      '',
      `Ambiguous devices (${plan.ambiguousDevices}): the id and the id without dashes name two stations; the exact match is used`,
      ...plan.ambiguities.map((a) => `  ${a.deviceId}: station ${a.stationId} (used), not ${a.otherStationId}`),
    );
    const more = (plan.ambiguousDevices ?? 0) - plan.ambiguities.length;
    if (more > 0) lines.push(`  … and ${more} more: cp-sync plan ${workflowId ?? '<workflowId>'} --format json lists them all`);
  }
  const silent = plan.silentStationSamples ?? [];
  if (silent.length > 0) {
    const shown = silent.slice(0, SILENT_LINES);
    lines.push('', `Silent stations (${plan.silentStations}): live in the database, no message during the window`, ...shown.map((s) => `  ${s.stationId} (${s.stationName}, id ${s.stationPk})`));
    if ((plan.silentStations ?? 0) > shown.length) {
      lines.push(`  … and ${(plan.silentStations ?? 0) - shown.length} more: cp-sync plan ${workflowId ?? '<workflowId>'} --format json lists them all`);
    }
  }
  if (plan.rejectedSamples.length > 0) {
    lines.push('', `Rejected messages (${plan.rejected}):`, ...plan.rejectedSamples.map((r) => `  ${r.topic} ${JSON.stringify(r.payload)}: ${r.reason}`));
    if (plan.rejectedSamples.length >= PLAN_SAMPLE_LIMIT) {
      lines.push(`  … the first ${plan.rejectedSamples.length} samples; cp-sync plan ${workflowId ?? '<workflowId>'} --format json lists every stored one`);
    }
  }
  return lines;
}

/** The window's progress line; while the collector cannot reach the broker, with its last problem (naming the setting). */
export function formatProgress(progress: CollectionProgress | undefined, elapsedMs: number, windowMs: number, connectionError?: Pick<BrokerConnectionProblem, 'message'>): string {
  const seconds = (ms: number): string => formatDuration(Math.floor(ms / 1000) * 1000);
  const counts = progress ? `${progress.messages} messages, ${progress.devices} devices, ${progress.rejected} rejected` : 'connecting…';
  const trouble = connectionError ? ` · ${connectionLine(connectionError)}` : '';
  return `Collecting ${seconds(Math.min(elapsedMs, windowMs))} of ${seconds(windowMs)}: ${counts}${trouble}`;
}

export function formatStatus(workflowId: string, status: SyncStatus, progress?: CollectorHeartbeat): string[] {
  // A watch answers the same status query with its own story.
  if (isWatchStatus(status)) return formatWatchStatus(workflowId, status);
  const lines = [`Sync ${workflowId}: ${status.phase}`];
  const outcome = outcomeLine(status);
  if (outcome) lines.push(`  outcome: ${outcome}`);
  if (status.collectionNote) lines.push(`  note: ${status.collectionNote}`);
  if (status.phase === 'collecting') {
    const elapsedMs = Date.now() - Date.parse(status.startedAt);
    lines.push(`  ${formatProgress(progress, elapsedMs, status.input.collectorDurationMs, status.connectionError ?? progress?.connectionError)}`);
  }
  if (status.plan) {
    const p = status.plan;
    lines.push(`  ${planHeadline(p)}; ${p.processedDevices} devices, ${p.notFound} without a station, ${p.rejected} rejected messages`);
  }
  if (status.phase === 'awaiting-approval') {
    lines.push(`  waiting for approval until ${status.approvalDeadline ? formatDeadline(status.approvalDeadline) : '(no deadline)'}: cp-sync plan ${workflowId}, then cp-sync approve ${workflowId}`);
  }
  if (status.autoApproveExceeded) lines.push(`  not auto-approved: ${status.autoApproveExceeded}`);
  if (status.tooManySilent) lines.push(`  held for a person: ${status.tooManySilent}`);
  if (status.approval) lines.push(`  approved by ${status.approval.by} at ${status.approval.at}${status.approval.comment ? ` (${status.approval.comment})` : ''}`);
  if (status.rejection) lines.push(`  rejected by ${status.rejection.by} at ${status.rejection.at}${status.rejection.reason ? ` (${status.rejection.reason})` : ''}`);
  for (const r of status.refusedApprovals ?? []) lines.push(`  refused approval from ${r.by} at ${r.at}: ${r.reason}`);
  for (const r of status.refusedRejections ?? []) lines.push(`  refused rejection from ${r.by} at ${r.at}: ${r.reason}`);
  if (status.retry) lines.push(`  retrying: ${retryLine(status.retry)}`);
  if (status.apply) lines.push(`  created ${status.apply.created} points on ${status.apply.stationsChanged} stations`);
  // The outcome line of a failed or terminated run already tells its error: told once.
  if (status.error && !outcome?.includes(status.error)) lines.push(`  error: ${status.error}`);
  const notification = notificationLine(status.notifications);
  if (notification) lines.push(`  notification: ${notification}`);
  return lines;
}

/** Stage 6 of the original's user guide: the lines operators grep for. */
/** How a report reads: the run's id (for the hint to its full plan), and whether its plan was shown already. */
export interface ReportText {
  workflowId?: string;
  planShown?: boolean;
}

export function formatReport(result: SyncResult, text: ReportText = {}): string[] {
  const lines: string[] = [];
  switch (result.phase) {
    case 'applied':
      lines.push('=== Success ===', '✓ Transaction committed successfully', `Total charging points created: ${result.created}`);
      if (result.approval) lines.push(`Approved by ${result.approval.by} at ${result.approval.at}${result.approval.comment ? ` (${result.approval.comment})` : ''}`);
      break;
    case 'nothing-to-do':
      lines.push('=== Success ===', 'Nothing to create: every reported connector has its charging point', 'Total charging points created: 0');
      break;
    case 'dry-run':
      // What would be created, as `cp-sync plan` shows it: a dry run is read for its plan.
      lines.push('=== Dry run ===', 'Plan built; nothing was written');
      if (result.plan && !text.planShown) lines.push(...formatPlan(result.plan, text.workflowId), '');
      else lines.push(result.plan ? planHeadline(result.plan) : 'Total charging points created: 0');
      break;
    case 'rejected':
      lines.push('=== Rejected ===', `Plan rejected by ${result.rejection?.by ?? 'unknown'}${result.rejection?.reason ? `: ${result.rejection.reason}` : ''}`, 'No charging points were created');
      break;
    case 'expired':
      lines.push('=== Expired ===', 'No approval arrived before APPROVAL_TIMEOUT', 'No charging points were created');
      break;
    case 'heard-nothing':
      lines.push('=== Heard nothing ===', `WARN ${heardNothingWarning(result.input)}`);
      // How much of the fleet that silence covers: all of it is a broken feed, not a quiet night.
      if (result.plan) lines.push(`${result.plan.silentStations ?? result.plan.stationsInDatabase} of ${result.plan.stationsInDatabase} live stations in the database sent nothing`);
      lines.push('No charging points were created');
      break;
    case 'cancelled':
    case 'terminated':
      lines.push(`=== ${result.phase === 'cancelled' ? 'Cancelled' : 'Terminated'} ===`, outcomeLine(result) ?? result.phase, 'No charging points were created');
      break;
    default:
      lines.push(
        '=== Failed ===',
        result.failedDuring === 'applying' || result.failedDuring === undefined
          ? `✗ Transaction rolled back due to error: ${result.error ?? 'unknown error'}`
          : `✗ Sync failed while ${result.failedDuring}: ${result.error ?? 'unknown error'}`,
        'No charging points were created',
      );
  }
  lines.push(`Processed ${result.processedDevices} unique devices`);
  if (result.notFoundCount > 0) {
    lines.push('', `=== Stations Not Found by deviceId from cloud topic (${result.notFoundCount}) ===`, ...result.notFound);
    if (result.notFound.length < result.notFoundCount) lines.push(`… and ${result.notFoundCount - result.notFound.length} more (cp_sync_not_found holds them all)`);
  }
  return lines;
}
