import { EXIT, exitCodeForPhase, exitStatusHelp } from '../../src/domain/exit-codes';
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

describe('exitCodeForPhase with --detailed-exitcode', () => {
  it('tells a dry run with points to create (8) from one with nothing to do (0)', () => {
    expect(exitCodeForPhase('dry-run', { detailed: true })).toBe(EXIT.changesPending);
    expect(EXIT.changesPending).toBe(8);
    expect(exitCodeForPhase('nothing-to-do', { detailed: true })).toBe(EXIT.ok);
    expect(exitCodeForPhase('failed', { detailed: true })).toBe(EXIT.failed);
  });

  it('takes a code no other status uses', () => {
    const codes = Object.values(EXIT);
    expect(new Set(codes).size).toBe(codes.length);
  });
});

describe('exitStatusHelp', () => {
  it('gives every exit status one line of --help, from EXIT', () => {
    const lines = exitStatusHelp().split('\n');
    expect(lines[0]).toBe('Exit status:');
    expect(lines.slice(1).map((line) => Number(line.trim().split(/\s+/)[0]))).toEqual(Object.values(EXIT));
    expect(lines).toContain('    7  the tool\'s tables are missing or at another version (run: cp-sync migrate)');
    // An unreachable server exits 2 like a configuration error: the help says so, as the README does.
    expect(lines).toContain('    2  bad usage or configuration, or a connection that cannot be made (Temporal, MySQL, the MQTT broker; the line names the setting)');
  });
});
