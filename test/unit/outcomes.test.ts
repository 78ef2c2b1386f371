import { exitCodeForPhase, EXIT } from '../../src/domain/exit-codes';
import { formatReport } from '../../src/cli/format';
import { listQuery } from '../../src/client/list';
import { notificationBody } from '../../src/domain/notification';
import { heardNothingWarning, outcomeLine } from '../../src/domain/run-text';
import { tooManySilent } from '../../src/domain/silence';
import { resultOf } from '../../src/workflows/result';
import type { SyncStatus } from '../../src/shared';

const base: SyncStatus = { phase: 'collecting', startedAt: '2026-01-01T00:00:00Z', input: { collectorDurationMs: 3000, approvalTimeoutMs: 60_000, maxConnectors: 16, account: 'nobody' }, refusedApprovals: [], refusedRejections: [] };

describe('issue 13 outcomes', () => {
  it('gives heard-nothing, cancelled and terminated exit statuses of their own, a dry run that heard nothing included', () => {
    expect(exitCodeForPhase('heard-nothing', { detailed: true })).toBe(9);
    expect(exitCodeForPhase('cancelled')).toBe(10);
    expect(exitCodeForPhase('terminated')).toBe(11);
    expect([EXIT.heardNothing, EXIT.cancelled, EXIT.terminated]).toEqual([9, 10, 11]);
  });

  it('warns of a silent window naming the account, CLOUD_HOST and the topic filter', () => {
    const warning = heardNothingWarning(base.input);
    expect(warning).toContain('--account nobody');
    expect(warning).toContain('CLOUD_HOST');
    expect(warning).toContain('nobody/sweet-home/+/status-control/connectors-count');
    expect(formatReport(resultOf({ ...base, phase: 'heard-nothing' }))).toEqual(expect.arrayContaining(['=== Heard nothing ===', `WARN ${warning}`]));
    // With its plan, the report says how many live stations that silence covers (status of an ended run reads the same).
    const plan = { fingerprint: 'f', processedDevices: 0, messages: 0, stationsInDatabase: 120, silentStations: 120, stationsToChange: 0, pointsToCreate: 0, surplusPoints: 0, skippedStations: 0, notFound: 0, rejected: 0, stations: [], notFoundDeviceIds: [], rejectedSamples: [], truncated: false };
    expect(formatReport(resultOf({ ...base, phase: 'heard-nothing', plan }))).toEqual(['=== Heard nothing ===', `WARN ${warning}`, '120 of 120 live stations in the database sent nothing', 'No charging points were created', 'Processed 0 unique devices']);
  });

  it('tells a cancelled run from a failed one, and says when the apply was rolled back', () => {
    expect(outcomeLine({ ...base, phase: 'cancelled', cancelledDuring: 'awaiting-approval' })).toBe('cancelled while awaiting-approval; nothing written');
    expect(outcomeLine({ ...base, phase: 'cancelled', cancelledDuring: 'applying', rolledBack: true })).toBe('cancelled while applying; the transaction was rolled back; nothing written');
    expect(outcomeLine({ ...base, phase: 'terminated', error: 'wrong database' })).toBe('terminated: wrong database');
    expect(formatReport(resultOf({ ...base, phase: 'cancelled', cancelledDuring: 'collecting' }))[0]).toBe('=== Cancelled ===');
  });

  it('holds a plan whose silent stations pass the limit, and not one within it', () => {
    expect(tooManySilent({ silentStations: 4, stationsInDatabase: 6 })).toMatch(/^4 of 6 live stations \(67 %\) sent nothing/);
    expect(tooManySilent({ silentStations: 3, stationsInDatabase: 6 })).toBeUndefined();
    expect(tooManySilent({ silentStations: 1, stationsInDatabase: 6 }, 0)).toBeDefined();
    expect(tooManySilent({ silentStations: undefined, stationsInDatabase: 6 }, 0)).toBeUndefined();
  });

  it('notifies heard-nothing and cancelled in words of their own', () => {
    const event = { workflowId: 'w', runId: 'r' };
    expect(notificationBody({ ...event, event: 'heard-nothing' }, 'http://ui').text).toMatch(/heard nothing.*CLOUD_HOST/);
    expect(notificationBody({ ...event, event: 'cancelled', cancelledDuring: 'awaiting-approval' }, 'http://ui').text).toMatch(/cancelled while awaiting-approval: nothing was written/);
  });

  it('lists cancelled and terminated runs by their execution status too', () => {
    expect(listQuery({ phase: 'terminated' })).toBe("(WorkflowType = 'syncChargingPoints' OR WorkflowType = 'watchChargingPoints') AND ExecutionStatus = 'Terminated'");
    expect(listQuery({ phase: 'cancelled' })).toBe("(WorkflowType = 'syncChargingPoints' OR WorkflowType = 'watchChargingPoints') AND (CpSyncPhase = 'cancelled' OR ExecutionStatus = 'Canceled')");
  });
});
