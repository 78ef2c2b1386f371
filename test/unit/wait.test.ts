import { waitFor } from '../support/wait';

describe('waitFor (the polling helper of the tests)', () => {
  it('returns the first value that is not undefined or false, checking again every intervalMs', async () => {
    let calls = 0;
    const value = await waitFor('the third call', () => ++calls >= 3 && { calls }, { timeoutMs: 5000, intervalMs: 1 });
    expect(value).toEqual({ calls: 3 });
  });

  it('keeps 0 and the empty string as values', async () => {
    expect(await waitFor('zero', () => 0, { timeoutMs: 100, intervalMs: 1 })).toBe(0);
    expect(await waitFor('empty', () => Promise.resolve(''), { timeoutMs: 100, intervalMs: 1 })).toBe('');
  });

  it('fails on timeout naming what it waited for, the timeout and what it saw last', async () => {
    await expect(waitFor('the impossible', () => false, { timeoutMs: 30, intervalMs: 5, lastSeen: () => 'nothing' })).rejects.toThrow('the impossible: not within 30 ms; last: nothing');
  });

  it('fails at once with the error a check throws (not retried)', async () => {
    let calls = 0;
    const check = (): boolean => {
      calls++;
      throw new Error('an assertion failed');
    };
    await expect(waitFor('a throwing check', check, { timeoutMs: 5000, intervalMs: 1 })).rejects.toThrow('an assertion failed');
    expect(calls).toBe(1);
  });
});
