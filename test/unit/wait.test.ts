import { defineQuery } from '@temporalio/workflow';
import type { WorkflowHandle } from '@temporalio/client';
import { queryUntil, waitFor } from '../support/wait';

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

describe('queryUntil (a workflow query asked until its answer is the awaited one)', () => {
  const countQuery = defineQuery<number>('count');
  /** A handle whose query gives `answers` in turn (an Error is thrown), then the last one for ever. */
  function handleAnswering(...answers: Array<number | Error>): WorkflowHandle {
    let asked = 0;
    const query = (): Promise<number> => {
      const answer = answers[Math.min(asked++, answers.length - 1)]!;
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    };
    return { query } as unknown as WorkflowHandle;
  }

  it('asks again after a failed query and returns the first answer that is ready, 0 included', async () => {
    const handle = handleAnswering(new Error('no poller'), 3, 0);
    expect(await queryUntil(handle, countQuery, 'zero', (n) => n === 0, { timeoutMs: 5000, intervalMs: 1 })).toBe(0);
  });

  it('fails on timeout naming the last answer, the last query failure and the context', async () => {
    const handle = handleAnswering(7, new Error('no poller'));
    await expect(queryUntil(handle, countQuery, 'ten', (n) => n === 10, { timeoutMs: 30, intervalMs: 5, describe: (n) => `count ${n}`, context: () => 'ctx' })).rejects.toThrow(
      'ten: not within 30 ms; last: count 7; query failed: no poller; ctx',
    );
  });

  it('fails at once with the error `ready` throws', async () => {
    const handle = handleAnswering(1);
    const ready = (): boolean => {
      throw new Error('ended otherwise');
    };
    await expect(queryUntil(handle, countQuery, 'anything', ready, { timeoutMs: 5000, intervalMs: 1 })).rejects.toThrow('ended otherwise');
  });
});
