import { currentDetails } from '../../src/workflows/details';
import { aPlanSummary, aSyncInput, aSyncStatus, anApplyResult } from '../support/builders';

describe('currentDetails', () => {
  it('starts with the phase', () => {
    expect(currentDetails(aSyncStatus({ phase: 'collecting' })).split('\n')[0]).toBe('**Phase:** collecting');
  });

  it('shows the plan fingerprint and its counts once planned', () => {
    const details = currentDetails(aSyncStatus({ plan: aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 7, stationsToChange: 3 }) }));
    expect(details).toContain('**Plan a1b2c3d4e5f60718:** 7 points to create on 3 stations');
  });

  it('adds what the window did not hear: silent stations, ambiguous devices, broker drops', () => {
    const details = currentDetails(aSyncStatus({ plan: aPlanSummary({ silentStations: 4, ambiguousDevices: 1, brokerDroppedMessages: 12 }) }));
    expect(details).toContain('· 4 silent stations · 1 ambiguous devices · 12 messages dropped by the broker');
  });

  it('has no plan line before the plan', () => {
    expect(currentDetails(aSyncStatus({ phase: 'collecting' }))).not.toContain('**Plan');
  });

  it('shows the approval deadline while awaiting approval', () => {
    const deadline = new Date(Date.now() + 24 * 3_600_000 + 30_000).toISOString();
    const details = currentDetails(aSyncStatus({ phase: 'awaiting-approval', plan: aPlanSummary(), approvalDeadline: deadline }));
    expect(details).toContain(`**Waiting for approval until** ${deadline.replace(/\.000Z$/, 'Z')} (in 24 h)`);
  });

  it('shows the exact Data to paste into the Web UI while awaiting approval, and not after', () => {
    const waiting = aSyncStatus({ phase: 'awaiting-approval', plan: aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' }), approvalDeadline: '2024-11-12T10:30:00.000Z' });
    expect(currentDetails(waiting)).toContain('**To approve here:** Send an Update named `approve` with the Data `{"fingerprint":"a1b2c3d4e5f60718","by":"<your name>"}`');
    expect(currentDetails({ ...waiting, phase: 'applying' })).not.toContain('To approve here');
  });

  it('names the approver, the time and the comment', () => {
    const details = currentDetails(
      aSyncStatus({
        phase: 'applying',
        plan: aPlanSummary(),
        approval: { by: 'alice', comment: 'checked the list', at: '2024-11-11T11:00:00.000Z', fingerprint: '0123456789abcdef', auto: false },
      }),
    );
    expect(details).toContain('**Approved by** alice at 2024-11-11T11:00:00.000Z — checked the list');
  });

  it('names who rejected and why', () => {
    const details = currentDetails(aSyncStatus({ phase: 'rejected', rejection: { by: 'bob', reason: 'wrong fleet', at: '2024-11-11T11:00:00.000Z' } }));
    expect(details).toContain('**Rejected by** bob at 2024-11-11T11:00:00.000Z — wrong fleet');
  });

  it('shows the latest refused approval', () => {
    const details = currentDetails(
      aSyncStatus({
        refusedApprovals: [
          { by: 'carol', reason: 'first', at: '2024-11-11T11:00:00.000Z' },
          { by: 'dave', reason: 'fingerprint ffff is not the current plan', at: '2024-11-11T11:01:00.000Z' },
        ],
      }),
    );
    expect(details).toContain('**Refused approval** from dave: fingerprint ffff is not the current plan');
    expect(details).not.toContain('carol');
  });

  it('shows what the apply created', () => {
    expect(currentDetails(aSyncStatus({ phase: 'applied', apply: anApplyResult({ created: 5, stationsChanged: 2, alreadyPresent: 1 }) }))).toContain(
      '**Created** 5 points on 2 stations (1 already present)',
    );
  });

  it('shows the test device and the mode of the run', () => {
    const details = currentDetails(aSyncStatus({ input: aSyncInput({ collectorDurationMs: 5000, testDeviceId: '6r43-lnud', dryRun: true }) }));
    expect(details).toContain('**Window:** 5 s · test device 6r43-lnud · dry run');
  });

  it('shows the error of a failed run', () => {
    expect(currentDetails(aSyncStatus({ phase: 'failed', error: 'Activity task failed' }))).toContain('**Error:** Activity task failed');
  });

  it('shows operators\' text literally, not as markdown (--yes stays two dashes, *x* no emphasis)', () => {
    const details = currentDetails(
      aSyncStatus({ phase: 'applying', approval: { by: 'ops_team', comment: 'cp-sync run --yes *now*', at: '2024-11-11T10:30:00.000Z', fingerprint: 'f', auto: false } }),
    );
    expect(details).toContain('**Approved by** ops\\_team at 2024-11-11T10:30:00.000Z — cp\\-sync run \\-\\-yes \\*now\\*');
  });
});

describe('currentDetails: a retry', () => {
  it('says which attempt failed, why (escaped for markdown) and when the next is due', () => {
    const details = currentDetails(
      aSyncStatus({
        phase: 'applying',
        retry: { activity: 'applyMissingPoints', attempt: 2, maximumAttempts: 20, lastFailure: 'lost connection (PROTOCOL_CONNECTION_LOST: gone)', nextAttemptAt: '2026-11-28T18:40:12.000Z' },
      }),
    );
    expect(details).toContain(
      '**Retrying:** applyMissingPoints attempt 1 of 20 failed (lost connection \\(PROTOCOL\\_CONNECTION\\_LOST: gone\\)); attempt 2 due at 2026-11-28T18:40:12.000Z',
    );
  });
});
