import type { Phase } from './phases';

/** Exit statuses of `cp-sync`, documented in the README and, from EXIT_MEANINGS, in `cp-sync --help`. */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  rejected: 3,
  expired: 4,
  refused: 5,
  alreadyRunning: 6,
  /** The tool's tables are missing, behind, or ahead of this cp-sync: run `cp-sync migrate`. */
  schemaNotReady: 7,
  /** `--detailed-exitcode` on a dry run: the plan would create charging points (Terraform's "changes present"). */
  changesPending: 8,
  /** The window heard no valid message from any device (dry runs included, whatever --detailed-exitcode says). */
  heardNothing: 9,
  /** Cancelled from outside (the Web UI's "Request Cancellation", a client's cancel); nothing was written. */
  cancelled: 10,
  /** Terminated from outside (`temporal workflow terminate`, the Web UI). */
  terminated: 11,
  interrupted: 130,
} as const;

/** What each status means, for `cp-sync --help` (the README's table says the same). */
export const EXIT_MEANINGS: Record<keyof typeof EXIT, string> = {
  ok: 'success (applied, nothing-to-do, dry-run, or the command did its job)',
  failed: 'failure',
  usage: 'bad usage or configuration, or a connection that cannot be made (Temporal, MySQL, the MQTT broker; the line names the setting)',
  rejected: 'rejected',
  expired: 'expired',
  refused: 'approval or rejection refused',
  alreadyRunning: 'a sync with that id is already running (schedule: the schedule exists already, or trigger while its sync is still going)',
  schemaNotReady: "the tool's tables are missing or at another version (run: cp-sync migrate)",
  changesPending: 'with --detailed-exitcode, a dry run whose plan would create points',
  heardNothing: 'heard nothing: no device sent a valid message during the window (check --account, CLOUD_HOST, the topic)',
  cancelled: 'cancelled (Request Cancellation in the Web UI, or a client); nothing written',
  terminated: 'terminated from outside; see the reason in cp-sync status',
  interrupted: 'cp-sync run interrupted (the sync goes on: cp-sync status, cp-sync reject)',
};

/** The help's paragraph on exit statuses, from EXIT and EXIT_MEANINGS. */
export function exitStatusHelp(): string {
  const entries = (Object.keys(EXIT) as (keyof typeof EXIT)[]).map((name) => `  ${String(EXIT[name]).padStart(3)}  ${EXIT_MEANINGS[name]}`);
  return ['Exit status:', ...entries].join('\n');
}

/** The exit status of each outcome that is not a plain failure; every other phase exits `failed`. */
const EXIT_OF_PHASE: Partial<Record<Phase, number>> = {
  applied: EXIT.ok,
  'nothing-to-do': EXIT.ok,
  'dry-run': EXIT.ok,
  rejected: EXIT.rejected,
  expired: EXIT.expired,
  'heard-nothing': EXIT.heardNothing,
  cancelled: EXIT.cancelled,
  terminated: EXIT.terminated,
};

/**
 * The exit status of a run that ended in `phase`. With `detailed` (`--detailed-exitcode`), a dry run whose plan would
 * create points exits `changesPending`, so that a script can tell it from `nothing-to-do` without parsing output.
 */
export function exitCodeForPhase(phase: Phase, { detailed = false }: { detailed?: boolean } = {}): number {
  if (phase === 'dry-run' && detailed) return EXIT.changesPending;
  return EXIT_OF_PHASE[phase] ?? EXIT.failed;
}

/** An error that the CLI prints as one line and turns into an exit status. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}
