#!/usr/bin/env node
/**
 * `cp-sync`: the operator's command line. This entry point only wires the commands (commands/), owns the session
 * they share, and turns what they end with into the exit status: read commands take `--json` and then print
 * exactly one JSON document on stdout; exit statuses are in domain/exit-codes.ts and the README.
 */
import { Command } from 'commander';
import { ConfigError, loadDatabaseConfig, loadDotEnv, type Env } from '../config';
import { databaseConnectionError } from '../db/errors';
import { CliError, EXIT, exitStatusHelp } from '../domain/exit-codes';
import { schemaError } from './maintenance';
import { ignoreClosedReader } from './out';
import { ExitStatus, Session, type CommandContext } from './session';
import { packageVersion } from './version';
import { addListCommand } from './commands/list';
import { addMaintenanceCommands } from './commands/maintenance';
import { addPlanCommand } from './commands/plan';
import { addRunCommand } from './commands/run';
import { addScheduleCommands } from './commands/schedules';
import { addSyncCommands } from './commands/sync';
import { addWatchCommands } from './commands/watch';

export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('cp-sync')
    .description('Find the charging points that stations report over MQTT but ocpp-db lacks, and create them after approval.')
    .version(packageVersion(), '-V, --version', "print cp-sync's version")
    .showHelpAfterError()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .exitOverride();
  addMaintenanceCommands(program, ctx);
  addSyncCommands(program, ctx);
  addRunCommand(program, ctx);
  addPlanCommand(program, ctx);
  addScheduleCommands(program, ctx);
  addListCommand(program, ctx);
  addWatchCommands(program, ctx);
  program.addHelpText('after', `\n${exitStatusHelp()}`);
  return program;
}

/** The database server the settings name, for a connection error's line (`MySQL db.internal:3306 (…)`). */
function databaseServer(env: Env): { host: string; port: number } | undefined {
  try {
    const { host, port } = loadDatabaseConfig(env);
    return { host, port };
  } catch {
    return undefined;
  }
}

/** One line on stderr for what a command ended with, and its exit status. */
function exitCodeOf(caught: unknown, env: Env): number {
  const err = schemaError(caught);
  const e = err as { code?: string; exitCode?: number; message?: string };
  if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
    // --help and --version end here with exit code 0; usage errors were already printed by commander.
    return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (err instanceof ConfigError) {
    process.stderr.write(`Configuration error: ${err.message}\n`);
    return EXIT.usage;
  }
  const connectionError = databaseConnectionError(err, databaseServer(env));
  if (connectionError !== undefined) {
    process.stderr.write(`${connectionError.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof CliError) {
    process.stderr.write(`${err.message}\n`);
    return err.exitCode;
  }
  process.stderr.write(`Error: ${e.message ?? String(err)}\n`);
  return EXIT.failed;
}

export async function main(argv: string[]): Promise<number> {
  ignoreClosedReader(process.stdout);
  loadDotEnv();
  const ctx: CommandContext = { session: new Session(process.env), env: process.env, exit: new ExitStatus() };
  try {
    await buildProgram(ctx).parseAsync(argv);
    return ctx.exit.code;
  } catch (caught) {
    return exitCodeOf(caught, ctx.env);
  } finally {
    await ctx.session.close();
  }
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
    // A worker that failed at start may leave the SDK's runtime (its logger and metrics exporter) holding the
    // event loop open: a failed command ends once its output is written, whatever is left running.
    if (code !== EXIT.ok) process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}
