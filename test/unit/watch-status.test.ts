/** What `status` and `list` show of a watch, for people and in JSON. */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { formatStatus } from '../../src/cli/format';
import { listedRun } from '../../src/client/list';
import type { SyncStatus } from '../../src/shared';
import { WATCH_WORKFLOW_TYPE, type WatchStatus } from '../../src/watch-shared';
import { CP_SYNC_PHASE } from '../../src/workflows/visibility';
import { awaitApproval, cycleRecord, initialStatus, recordCreated, supersede } from '../../src/workflows/watch-state';
import { aPlanSummary } from '../support/builders';

function aWatch(): WatchStatus {
  const status = initialStatus({ intervalMs: 30_000, maxConnectors: 16, account: 'acme' }, undefined, new Date('2026-12-06T08:00:00Z'));
  status.cycles = 12;
  status.devicesHeard = 340;
  recordCreated(status, { created: 5, stationsChanged: 2 } as Parameters<typeof recordCreated>[1], new Date('2026-12-06T09:00:00Z'));
  status.lastCycle = { ...cycleRecord(12, new Date('2026-12-06T09:30:00Z'), 4, aPlanSummary({ pointsToCreate: 7 })), decision: 'awaiting-approval' };
  return status;
}

const show = (status: WatchStatus): string[] => formatStatus('charging-points-watch', status as unknown as SyncStatus);

describe('status of a watch, for people', () => {
  it('shows devices heard, cycles, the last cycle and the points created in all and today', () => {
    expect(show(aWatch())).toEqual([
      'Watch charging-points-watch: watching',
      '  a cycle every 30 s on account acme; watching since 2026-12-06T08:00:00.000Z',
      '  340 devices heard · 12 cycles · 5 points created in all, 5 today (2026-12-06, UTC)',
      '  last cycle 12 at 2026-12-06T09:30:00.000Z: 4 changed devices, 7 points to create, 0 created (awaiting-approval)',
    ]);
  });

  it('shows the waiting plan with its headline, fingerprint and how to approve it, and what it superseded', () => {
    const status = aWatch();
    awaitApproval(status, { cycle: 11, runKey: 'k11', plan: aPlanSummary({ fingerprint: 'old11', pointsToCreate: 3 }), since: '2026-12-06T09:29:00.000Z', fromCycle: 11 });
    supersede(status, 12);
    const plan = aPlanSummary({ fingerprint: 'abc123', pointsToCreate: 7, stationsToChange: 3 });
    awaitApproval(status, { cycle: 12, runKey: 'k12', plan, since: '2026-12-06T09:30:00.000Z', autoApproveExceeded: '7 points > 5', fromCycle: 11 });
    const lines = show(status);
    expect(lines[0]).toBe('Watch charging-points-watch: awaiting-approval');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ {2}waiting for approval since 2026-12-06T09:30:00.000Z \(cycle 12\): Plan abc123: 7 points to create on 3 stations$/),
        "  cp-sync plan charging-points-watch, then cp-sync approve charging-points-watch --fingerprint abc123 (a newer cycle's plan supersedes it)",
        '  not auto-approved: 7 points > 5',
        "  last superseded: plan old11 of cycle 11, by cycle 12's",
      ]),
    );
  });

  it('says when no cycle ran yet', () => {
    const status = initialStatus({ intervalMs: 5000, maxConnectors: 16 }, undefined, new Date('2026-12-06T08:00:00Z'));
    expect(show(status)).toContain('  no cycle yet');
    expect(show(status)[1]).toBe('  a cycle every 5 s on all accounts; watching since 2026-12-06T08:00:00.000Z');
  });
});

describe('list shows watches', () => {
  const watchRun = (status: 'RUNNING' | 'COMPLETED', phase: string): WorkflowExecutionInfo =>
    ({
      workflowId: 'charging-points-watch',
      runId: 'r1',
      type: WATCH_WORKFLOW_TYPE,
      status: { name: status, code: status === 'RUNNING' ? 1 : 2 },
      typedSearchAttributes: new TypedSearchAttributes([{ key: CP_SYNC_PHASE, value: phase }]),
      memo: {},
      startTime: new Date('2026-12-06T08:00:00Z'),
      closeTime: status === 'RUNNING' ? undefined : new Date('2026-12-06T10:00:00Z'),
    }) as unknown as WorkflowExecutionInfo;

  it('as kind watch, in their phase: watching, awaiting-approval, stopped', () => {
    expect(listedRun(watchRun('RUNNING', 'watching'))).toMatchObject({ kind: 'watch', phase: 'watching' });
    expect(listedRun(watchRun('RUNNING', 'awaiting-approval'))).toMatchObject({ kind: 'watch', phase: 'awaiting-approval' });
    expect(listedRun(watchRun('COMPLETED', 'stopped'))).toMatchObject({ kind: 'watch', phase: 'stopped' });
  });
});
