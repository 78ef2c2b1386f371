import { isFailureClass, isFinal, isPhase, isSuccessful, mayReject, PHASES, type Phase } from '../../src/domain/phases';
import { FINAL_PHASES, SUCCESSFUL_PHASES } from '../../src/shared';

describe('the phase rules', () => {
  it.each<[Phase, { final: boolean; successful: boolean; rejectable: boolean; failure: boolean }]>([
    ['collecting', { final: false, successful: false, rejectable: true, failure: false }],
    ['planning', { final: false, successful: false, rejectable: true, failure: false }],
    ['awaiting-approval', { final: false, successful: false, rejectable: true, failure: false }],
    ['applying', { final: false, successful: false, rejectable: false, failure: false }],
    ['applied', { final: true, successful: true, rejectable: false, failure: false }],
    ['nothing-to-do', { final: true, successful: true, rejectable: false, failure: false }],
    ['dry-run', { final: true, successful: true, rejectable: false, failure: false }],
    ['rejected', { final: true, successful: false, rejectable: false, failure: false }],
    ['expired', { final: true, successful: false, rejectable: false, failure: false }],
    ['failed', { final: true, successful: false, rejectable: false, failure: true }],
    ['heard-nothing', { final: true, successful: false, rejectable: false, failure: true }],
    ['cancelled', { final: true, successful: false, rejectable: false, failure: false }],
    ['terminated', { final: true, successful: false, rejectable: false, failure: false }],
  ])('%s', (phase, rules) => {
    expect({ final: isFinal(phase), successful: isSuccessful(phase), rejectable: mayReject(phase), failure: isFailureClass(phase) }).toEqual(rules);
  });

  it('covers every phase, and a successful or failure-class phase is always final', () => {
    expect(PHASES).toHaveLength(13);
    for (const phase of PHASES) {
      if (isSuccessful(phase) || isFailureClass(phase)) expect(isFinal(phase)).toBe(true);
      expect(isSuccessful(phase) && isFailureClass(phase)).toBe(false);
    }
  });

  it('keeps the lists that shared.ts exported before', () => {
    expect(FINAL_PHASES.filter(isFinal)).toEqual(FINAL_PHASES);
    expect(PHASES.filter(isSuccessful)).toEqual(SUCCESSFUL_PHASES);
  });

  it('knows a phase from another string', () => {
    expect(isPhase('awaiting-approval')).toBe(true);
    expect(isPhase('cancelled')).toBe(true);
    expect(isPhase('canceled')).toBe(false);
    expect(isPhase(3)).toBe(false);
  });
});
