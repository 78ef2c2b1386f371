import { judgeApproval, judgeRejection } from '../../src/workflows/decision';
import type { Phase } from '../../src/shared';
import { aPlanSummary, aSyncStatus } from '../support/builders';

const NOW = '2026-11-28T06:00:00.000Z';
const plan = aPlanSummary({ fingerprint: 'a1b2c3d4e5f60718' });
const waiting = aSyncStatus({ phase: 'awaiting-approval', plan });
const approval = { by: 'alice', at: NOW, fingerprint: plan.fingerprint, auto: false };

describe('judgeApproval (the Update validator and the signal handler)', () => {
  it('accepts the current plan, with or without its fingerprint, recording who as given', () => {
    expect(judgeApproval(waiting, { by: ' alice@ops ', comment: 'ok' }, NOW)).toEqual({ accepted: { by: 'alice@ops', comment: 'ok', at: NOW, fingerprint: plan.fingerprint, auto: false } });
  });

  it('refuses an approval that does not say who approves, saying what to send', () => {
    expect(judgeApproval(waiting, { fingerprint: plan.fingerprint }, NOW)).toEqual({
      refused: 'say who approves: send {"fingerprint":"a1b2c3d4e5f60718","by":"<your name>"}',
      by: 'unknown',
      fingerprint: plan.fingerprint,
    });
    expect(judgeApproval(waiting, { fingerprint: plan.fingerprint, by: '  ' }, NOW)).toMatchObject({ refused: expect.stringContaining('say who approves') });
  });

  it('accepts one without `by` as `unknown` in a run recorded before the rule (replay)', () => {
    expect(judgeApproval(waiting, { fingerprint: plan.fingerprint }, NOW, { byRequired: false })).toMatchObject({ accepted: { by: 'unknown' } });
    expect(judgeRejection(waiting, undefined, NOW, { byRequired: false })).toMatchObject({ accepted: { by: 'unknown' } });
  });

  it.each<[string, Parameters<typeof judgeApproval>[0], string]>([
    ['a stale fingerprint', waiting, "fingerprint ffffffffffffffff is not the current plan's (a1b2c3d4e5f60718)"],
    ['a run still collecting', aSyncStatus({ phase: 'collecting' }), 'nothing awaits approval (phase collecting)'],
    ['a run already approved', { ...waiting, approval }, 'already approved by alice'],
    ['a run already rejected', { ...waiting, rejection: { by: 'bob', at: NOW } }, 'already rejected by bob'],
  ])('refuses %s', (_, status, reason) => {
    const verdict = judgeApproval(status, { fingerprint: status === waiting ? 'ffffffffffffffff' : undefined, by: 'mallory' }, NOW);
    expect(verdict).toEqual({ refused: reason, by: 'mallory', fingerprint: status === waiting ? 'ffffffffffffffff' : undefined });
  });
});

describe('judgeRejection', () => {
  it.each<Phase>(['collecting', 'planning', 'awaiting-approval'])('accepts a rejection while %s', (phase) => {
    expect(judgeRejection(aSyncStatus({ phase }), { by: 'bob', reason: 'wrong fleet' }, NOW)).toEqual({ accepted: { by: 'bob', reason: 'wrong fleet', at: NOW } });
  });

  it('refuses a rejection that does not say who rejects, saying what to send', () => {
    expect(judgeRejection(waiting, { reason: 'wrong fleet' }, NOW)).toEqual({ refused: 'say who rejects: send {"by":"<your name>","reason":"<why>"}', by: 'unknown' });
  });

  it('refuses once approved, once rejected, and once the write has started', () => {
    expect(judgeRejection({ ...waiting, approval }, { by: 'bob' }, NOW)).toEqual({ refused: 'already approved by alice', by: 'bob' });
    expect(judgeRejection({ ...waiting, rejection: { by: 'carol', at: NOW } }, { by: 'bob' }, NOW)).toEqual({ refused: 'already rejected by carol', by: 'bob' });
    expect(judgeRejection(aSyncStatus({ phase: 'applying' }), { by: 'bob' }, NOW)).toEqual({ refused: 'too late: the run is applying', by: 'bob' });
  });
});
