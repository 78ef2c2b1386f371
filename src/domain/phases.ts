/**
 * The phases of a run and the rules about them, defined once: which end a run, which count as success (exit 0),
 * in which a rejection still prevents the write, and which are failures (alerts, `failed` notifications).
 */
export const PHASES = [
  'collecting',
  'planning',
  'awaiting-approval',
  'applying',
  'applied',
  'nothing-to-do',
  'dry-run',
  'rejected',
  'expired',
  'failed',
  /** The window heard no valid message from any device (wrong account, broker or topic): nothing was planned. */
  'heard-nothing',
  /** Cancelled from outside (Temporal's "Request Cancellation", a client's cancel): nothing was written. */
  'cancelled',
  /** Terminated from outside; never set by the workflow itself, only read from the history by the CLI. */
  'terminated',
] as const;
export type Phase = (typeof PHASES)[number];

/** Phases after which the workflow has ended. */
export const FINAL_PHASES: readonly Phase[] = ['applied', 'nothing-to-do', 'dry-run', 'rejected', 'expired', 'failed', 'heard-nothing', 'cancelled', 'terminated'];

/** Phases an operator or a script treats as success (exit status 0). */
export const SUCCESSFUL_PHASES: readonly Phase[] = ['applied', 'nothing-to-do', 'dry-run'];

/** Phases in which a rejection still prevents the write: before the apply has started. */
export const REJECTABLE_PHASES: readonly Phase[] = ['collecting', 'planning', 'awaiting-approval'];

/** Outcomes that mean something went wrong and someone should look (the failure alert counts these). */
export const FAILURE_CLASS_PHASES: readonly Phase[] = ['failed', 'heard-nothing'];

export function isPhase(value: unknown): value is Phase {
  return typeof value === 'string' && (PHASES as readonly string[]).includes(value);
}

export function isFinal(phase: Phase): boolean {
  return FINAL_PHASES.includes(phase);
}

export function isSuccessful(phase: Phase): boolean {
  return SUCCESSFUL_PHASES.includes(phase);
}

export function mayReject(phase: Phase): boolean {
  return REJECTABLE_PHASES.includes(phase);
}

export function isFailureClass(phase: Phase): boolean {
  return FAILURE_CLASS_PHASES.includes(phase);
}
