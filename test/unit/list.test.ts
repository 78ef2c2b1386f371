import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { formatRuns, listQuery, newestFirst, NEWEST_START_FIRST } from '../../src/client/list';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/visibility';

describe('cp-sync list', () => {
  it('asks visibility for the syncs; a running phase also needs a running execution (a terminated run keeps its last phase)', () => {
    expect(listQuery({})).toBe("(WorkflowType = 'syncChargingPoints' OR WorkflowType = 'watchChargingPoints')");
    expect(listQuery({ phase: 'awaiting-approval', since: new Date('2026-11-28T00:00:00Z') })).toBe(
      "(WorkflowType = 'syncChargingPoints' OR WorkflowType = 'watchChargingPoints') AND CpSyncPhase = 'awaiting-approval' AND ExecutionStatus = 'Running' AND StartTime >= '2026-11-28T00:00:00.000Z'",
    );
    expect(listQuery({ phase: 'applied' })).toBe("(WorkflowType = 'syncChargingPoints' OR WorkflowType = 'watchChargingPoints') AND CpSyncPhase = 'applied'");
  });

  it('a watch’s phases: watching (and awaiting-approval) only while it runs; stopped, its end, whenever', () => {
    const both = "(WorkflowType = 'syncChargingPoints' OR WorkflowType = 'watchChargingPoints')";
    expect(listQuery({ phase: 'watching' })).toBe(`${both} AND CpSyncPhase = 'watching' AND ExecutionStatus = 'Running'`);
    expect(listQuery({ phase: 'stopped' })).toBe(`${both} AND CpSyncPhase = 'stopped'`);
  });

  it('--database filters on CpSyncDatabase; the order asked for is newest start first', () => {
    expect(listQuery({ database: 'ocpp_eu' })).toBe("(WorkflowType = 'syncChargingPoints' OR WorkflowType = 'watchChargingPoints') AND CpSyncDatabase = 'ocpp_eu'");
    expect(NEWEST_START_FIRST).toBe(' ORDER BY StartTime DESC');
  });

  it('prints aligned columns, with - for what a run does not have yet', () => {
    expect(
      formatRuns([
        { workflowId: 'nightly-eu', runId: 'r1', phase: 'awaiting-approval', pointsToCreate: 37, startedAt: '2026-11-28T02:00:04.120Z' },
        { workflowId: 'cp', runId: 'r2', phase: 'applied', pointsToCreate: 2, startedAt: '2026-11-27T02:00:03.000Z', decidedBy: 'alice@ops' },
        { workflowId: 'cp', runId: 'r3', phase: 'collecting', startedAt: '2026-11-28T06:00:00.000Z' },
      ]),
    ).toEqual([
      'WORKFLOW ID  PHASE              POINTS  DATABASE  STARTED               DECIDED BY',
      'nightly-eu   awaiting-approval  37      -         2026-11-28T02:00:04Z  -',
      'cp           applied            2       -         2026-11-27T02:00:03Z  alice@ops',
      'cp           collecting         -       -         2026-11-28T06:00:00Z  -',
    ]);
    expect(formatRuns([{ workflowId: 'cp', runId: 'r1', phase: 'applied', database: 'ocpp_eu', startedAt: '2026-11-27T02:00:03.000Z' }])[1]).toBe('cp           applied  -       ocpp_eu   2026-11-27T02:00:03Z  -');
  });
});

/** A run as SQL visibility lists it: started at `start` (hours on a day), closed at `close` or running. */
function run(id: string, start: number, close?: number): WorkflowExecutionInfo {
  const at = (hour: number): Date => new Date(Date.UTC(2026, 10, 28, hour));
  return {
    workflowId: id,
    runId: `${id}-run`,
    status: { name: close === undefined ? 'RUNNING' : 'COMPLETED', code: close === undefined ? 1 : 2 },
    typedSearchAttributes: new TypedSearchAttributes(),
    memo: {},
    startTime: at(start),
    closeTime: close === undefined ? undefined : at(close),
  } as unknown as WorkflowExecutionInfo;
}

function* listing(runs: WorkflowExecutionInfo[], read: string[]): Iterable<WorkflowExecutionInfo> {
  for (const r of runs) {
    read.push(r.workflowId);
    yield r;
  }
}

describe('newest start first, from a visibility store that cannot sort (SQL: running first, then by close time)', () => {
  it('puts a later start before an older run that is still running', async () => {
    const read: string[] = [];
    const runs = await newestFirst(listing([run('old-running', 1), run('new-ended', 3, 4)], read), 20);
    expect(runs.map((r) => r.workflowId)).toEqual(['new-ended', 'old-running']);
  });

  it('stops reading once the runs still to come closed before the limit-th newest start', async () => {
    const read: string[] = [];
    const runs = await newestFirst(listing([run('a', 10), run('b', 8, 12), run('c', 9, 11), run('d', 2, 7), run('e', 1, 6)], read), 2);
    expect(runs.map((r) => r.workflowId)).toEqual(['a', 'c']);
    // d closed at 7, before c started (9): neither d nor anything after it can be newer.
    expect(read).toEqual(['a', 'b', 'c', 'd']);
  });

  it('reads to the end a listing in another order', async () => {
    const read: string[] = [];
    const runs = await newestFirst(listing([run('d', 2, 7), run('a', 10), run('b', 8, 12)], read), 1);
    expect(runs.map((r) => r.workflowId)).toEqual(['a']);
    expect(read).toEqual(['d', 'a', 'b']);
  });
});

describe('the search attributes', () => {
  it('are registered by npm run stack:up and documented with their create commands', () => {
    const stackUp = readFileSync(join(__dirname, '..', '..', 'scripts', 'stack-up.sh'), 'utf8');
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    for (const { name, type } of SEARCH_ATTRIBUTES) {
      expect(stackUp).toContain(`${name}:${type}`);
      expect(readme).toContain(`temporal operator search-attribute create --namespace "$TEMPORAL_NAMESPACE" --name ${name} --type ${type}`);
    }
  });
});
