import { EXIT, exitCodeForPhase } from '../../src/cli/exit-codes';
import { PHASES, SUCCESSFUL_PHASES, type Phase } from '../../src/shared';

describe('exitCodeForPhase', () => {
  it.each<[Phase, number]>([
    ['applied', 0],
    ['nothing-to-do', 0],
    ['dry-run', 0],
    ['rejected', 3],
    ['expired', 4],
    ['failed', 1],
    ['collecting', 1],
    ['planning', 1],
    ['awaiting-approval', 1],
    ['applying', 1],
  ])('%s → %i', (phase, code) => {
    expect(exitCodeForPhase(phase)).toBe(code);
  });

  it.each(PHASES.map((phase) => [phase]))('exits 0 for %s exactly when it is a successful phase', (phase) => {
    expect(exitCodeForPhase(phase) === EXIT.ok).toBe(SUCCESSFUL_PHASES.includes(phase));
  });
});
