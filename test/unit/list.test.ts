import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatRuns, listQuery } from '../../src/cli/list';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/visibility';

describe('cp-sync list', () => {
  it('asks visibility for the syncs; a running phase also needs a running execution (a terminated run keeps its last phase)', () => {
    expect(listQuery({})).toBe("WorkflowType = 'syncChargingPoints'");
    expect(listQuery({ phase: 'awaiting-approval', since: new Date('2026-11-28T00:00:00Z') })).toBe(
      "WorkflowType = 'syncChargingPoints' AND CpSyncPhase = 'awaiting-approval' AND ExecutionStatus = 'Running' AND StartTime >= '2026-11-28T00:00:00.000Z'",
    );
    expect(listQuery({ phase: 'applied' })).toBe("WorkflowType = 'syncChargingPoints' AND CpSyncPhase = 'applied'");
  });

  it('prints aligned columns, with - for what a run does not have yet', () => {
    expect(
      formatRuns([
        { workflowId: 'nightly-eu', runId: 'r1', phase: 'awaiting-approval', pointsToCreate: 37, startedAt: '2026-11-28T02:00:04.120Z' },
        { workflowId: 'cp', runId: 'r2', phase: 'applied', pointsToCreate: 2, startedAt: '2026-11-27T02:00:03.000Z', decidedBy: 'alice@ops' },
        { workflowId: 'cp', runId: 'r3', phase: 'collecting', startedAt: '2026-11-28T06:00:00.000Z' },
      ]),
    ).toEqual([
      'WORKFLOW ID  PHASE              POINTS  STARTED               DECIDED BY',
      'nightly-eu   awaiting-approval  37      2026-11-28T02:00:04Z  -',
      'cp           applied            2       2026-11-27T02:00:03Z  alice@ops',
      'cp           collecting         -       2026-11-28T06:00:00Z  -',
    ]);
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
