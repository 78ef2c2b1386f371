import { ApplicationFailure } from '@temporalio/common';
import { validateSyncInput } from '../../src/workflows/input';
import { aSyncInput } from '../support/builders';

function failure(input: unknown): ApplicationFailure {
  try {
    validateSyncInput(input);
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw err;
  }
  throw new Error('expected the input to be refused');
}

describe('validateSyncInput', () => {
  it('accepts what cp-sync start sends', () => {
    const input = aSyncInput({ testDeviceId: 'ab-cd', account: 'acc123', dryRun: true });
    expect(validateSyncInput(input)).toBe(input);
    const limited = aSyncInput({ autoApproveMaxPoints: 50, autoApproveMaxStations: 5 });
    expect(validateSyncInput(limited)).toBe(limited);
  });

  it.each([
    ['nothing', undefined, 'input.: expected an object'],
    ['an array', [], 'input.: expected an object'],
    ['no window', { ...aSyncInput(), collectorDurationMs: undefined }, 'input.collectorDurationMs: expected a whole number'],
    ['a negative window', aSyncInput({ collectorDurationMs: -1 }), 'input.collectorDurationMs'],
    ['a window as text', { ...aSyncInput(), collectorDurationMs: '60000' }, 'input.collectorDurationMs'],
    ['a fractional approval timeout', aSyncInput({ approvalTimeoutMs: 1.5 }), 'input.approvalTimeoutMs'],
    ['too many connectors', aSyncInput({ maxConnectors: 1001 }), 'input.maxConnectors: expected a whole number from 1 to 1000'],
    ['too many collectors', aSyncInput({ collectors: 65 }), 'input.collectors: expected a whole number from 1 to 64'],
    ['collectors not a number', aSyncInput({ collectors: '2' as unknown as number }), 'input.collectors: expected a whole number from 1 to 64'],
    ['a numeric test device', { ...aSyncInput(), testDeviceId: 42 }, 'input.testDeviceId: expected a string or nothing'],
    ['a wildcard account', aSyncInput({ account: 'acc/+' }), 'input.account: expected one MQTT topic level'],
    ['dryRun as text', { ...aSyncInput(), dryRun: 'yes' }, 'input.dryRun: expected a boolean or nothing'],
    ['both dry run and auto-approve', aSyncInput({ dryRun: true, autoApprove: true }), 'input.dryRun: expected not both'],
    ['a zero points limit', aSyncInput({ autoApproveMaxPoints: 0 }), 'input.autoApproveMaxPoints: expected a whole number from 1'],
    ['a stations limit as text', { ...aSyncInput(), autoApproveMaxStations: '5' }, 'input.autoApproveMaxStations: expected a whole number from 1'],
    ['a limit on a dry run', aSyncInput({ dryRun: true, autoApproveMaxPoints: 5 }), 'input.dryRun: expected not both dryRun and an auto-approve limit'],
    ['a limit with auto-approve', aSyncInput({ autoApprove: true, autoApproveMaxStations: 5 }), 'input.autoApprove: expected not both'],
  ])('refuses %s, naming the field, without retry', (_case, input, message) => {
    const err = failure(input);
    expect(err.message).toContain(message);
    expect(err.nonRetryable).toBe(true);
    expect(err.type).toBe('ConfigurationError');
  });
});
