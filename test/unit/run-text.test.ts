import { approvalMode, autoApproveLimits, connectionLine, failureText, outcomeLine, planHeadline, pointsToCreate, withoutActivityWrapper } from '../../src/domain/run-text';
import { aPlanSummary, anApplyResult, aSyncInput, aSyncStatus } from '../support/builders';

describe('run-text: the plan headline', () => {
  it('says how many points on how many stations, under the fingerprint', () => {
    const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718', pointsToCreate: 37, stationsToChange: 21 });
    expect(pointsToCreate(plan)).toBe('37 points to create on 21 stations');
    expect(planHeadline(plan)).toBe('Plan a1b2c3d4e5f60718: 37 points to create on 21 stations');
  });
});

describe('run-text: the approval mode', () => {
  it.each([
    [aSyncInput({ dryRun: true }), 'dry run'],
    [aSyncInput({ autoApprove: true }), 'auto-approve'],
    [aSyncInput({ autoApproveMaxPoints: 50 }), 'auto-approve up to 50 points'],
    [aSyncInput({ autoApproveMaxPoints: 50, autoApproveMaxStations: 10 }), 'auto-approve up to 50 points and 10 stations'],
    [aSyncInput(), 'approval'],
  ])('%j → %s', (input, mode) => {
    expect(approvalMode(input)).toBe(mode);
  });

  it('has no limits text without limits', () => {
    expect(autoApproveLimits(aSyncInput())).toBeUndefined();
  });
});

describe('run-text: the outcome line', () => {
  it('is undefined while the run goes on', () => {
    expect(outcomeLine(aSyncStatus({ phase: 'awaiting-approval', plan: aPlanSummary() }))).toBeUndefined();
  });

  it('tells each ending in one line', () => {
    const plan = aPlanSummary({ pointsToCreate: 5, stationsToChange: 2, processedDevices: 9 });
    expect(outcomeLine(aSyncStatus({ phase: 'applied', plan, apply: anApplyResult({ created: 5, stationsChanged: 2 }), approval: { by: 'alice@ops', at: 't', fingerprint: 'f', auto: false } }))).toBe(
      'applied: 5 points created on 2 stations; approved by alice@ops',
    );
    expect(outcomeLine(aSyncStatus({ phase: 'nothing-to-do', plan }))).toBe('nothing to do: 9 devices in sync');
    expect(outcomeLine(aSyncStatus({ phase: 'dry-run', plan }))).toBe('dry run: 5 points on 2 stations would be created');
    expect(outcomeLine(aSyncStatus({ phase: 'rejected', plan, rejection: { by: 'bob', reason: 'wrong fleet', at: 't' } }))).toBe('rejected by bob: wrong fleet; nothing written');
    expect(outcomeLine(aSyncStatus({ phase: 'expired', plan, approvalDeadline: '2026-01-01T00:00:00.000Z' }))).toBe(
      'expired: 5 points on 2 stations not approved before 2026-01-01T00:00:00.000Z; nothing written',
    );
    expect(outcomeLine(aSyncStatus({ phase: 'failed', failedDuring: 'collecting', error: 'Not authorized' }))).toBe('failed during collecting: Not authorized');
  });
});

describe("a failure in the operator's words", () => {
  it("drops Temporal's activity wrapper and keeps the activity's own error (setting and OS error)", () => {
    const wrapped = Object.assign(new Error('Activity task failed'), { cause: new Error('CLOUD_HOST 127.0.0.1:1999: connection refused (ECONNREFUSED)') });
    expect(failureText(wrapped)).toBe('CLOUD_HOST 127.0.0.1:1999: connection refused (ECONNREFUSED)');
    expect(failureText(Object.assign(new Error('apply failed'), { cause: new Error('ER_LOCK_WAIT_TIMEOUT') }))).toBe('apply failed: ER_LOCK_WAIT_TIMEOUT');
    expect(failureText(new Error('Not authorized'))).toBe('Not authorized');
    expect(failureText('cancelled')).toBe('cancelled');
  });

  it('reads texts recorded by earlier versions without the wrapper; a bare wrapper stays (it is all there is)', () => {
    expect(withoutActivityWrapper('Activity task failed: ER_NO_SUCH_TABLE')).toBe('ER_NO_SUCH_TABLE');
    expect(withoutActivityWrapper('Activity task failed')).toBe('Activity task failed');
    expect(withoutActivityWrapper('terminated: by hand')).toBe('terminated: by hand');
  });

  it('names the broker problem with its setting', () => {
    expect(connectionLine({ message: 'CLOUD_CREDENTIALS: not authorized' })).toBe('cannot reach the MQTT broker: CLOUD_CREDENTIALS: not authorized');
  });
});
