/**
 * What the run tells Temporal's visibility, so that runs can be found and told apart without a worker
 * (`cp-sync list`, `temporal workflow list --query`, the Web UI's list): three custom search attributes, upserted
 * as the run moves, and a memo with who decided and the outcome. The search attributes must be registered in the
 * namespace (`npm run stack:up` does it on the dev server; README "Production" for a cluster or Temporal Cloud).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { SyncStatus } from '../shared';
import { decidedBy } from './decision';
import { outcomeLine } from '../domain/run-text';

export const CP_SYNC_PHASE = defineSearchAttributeKey('CpSyncPhase', SearchAttributeType.KEYWORD);
export const CP_SYNC_POINTS_TO_CREATE = defineSearchAttributeKey('CpSyncPointsToCreate', SearchAttributeType.INT);
/** Set by whoever starts the run (cp-sync start/run, a schedule): the OCPP database it is meant for. */
export const CP_SYNC_DATABASE = defineSearchAttributeKey('CpSyncDatabase', SearchAttributeType.KEYWORD);

/** Every custom search attribute the runs use, with its type as `temporal operator search-attribute create` names it. */
export const SEARCH_ATTRIBUTES = [
  { name: CP_SYNC_PHASE.name, type: 'Keyword' },
  { name: CP_SYNC_POINTS_TO_CREATE.name, type: 'Int' },
  { name: CP_SYNC_DATABASE.name, type: 'Keyword' },
] as const;

/** The run's memo, as `cp-sync list` reads it. */
export interface RunMemo {
  decidedBy?: string;
  outcome?: string;
}

/** Upserts what changed since the last call; each upsert is a command in the history, so unchanged values are skipped. */
export function visibilityPublisher(): (status: SyncStatus) => void {
  let shown: { phase?: string; points?: number; memo?: string } = {};
  return (status) => {
    const points = status.plan?.pointsToCreate;
    const attributes = [];
    if (status.phase !== shown.phase) attributes.push({ key: CP_SYNC_PHASE, value: status.phase });
    if (points !== undefined && points !== shown.points) attributes.push({ key: CP_SYNC_POINTS_TO_CREATE, value: points });
    if (attributes.length > 0) upsertSearchAttributes(attributes);
    const memo: RunMemo = { decidedBy: decidedBy(status), outcome: outcomeLine(status) };
    const memoKey = JSON.stringify(memo);
    if ((memo.decidedBy !== undefined || memo.outcome !== undefined) && memoKey !== shown.memo) upsertMemo({ ...memo });
    shown = { phase: status.phase, points, memo: memoKey };
  };
}
