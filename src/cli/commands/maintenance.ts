/** The commands that keep the tool running: `worker` (and its healthcheck), `migrate`, `prune`. */
import type { Command } from 'commander';
import { EXIT } from '../../domain/exit-codes';
import { runMigrate, runPrune } from '../maintenance';
import { durationOption } from '../options';
import { printJson, printLines } from '../out';
import type { CommandContext } from '../session';

async function worker(ctx: CommandContext, options: { check?: boolean }): Promise<void> {
  if (options.check) {
    // The check opens and closes a connection of its own: it names the host it asks about.
    const { checkWorkerHealth } = await import('../../worker-health');
    printLines(await checkWorkerHealth(ctx.env));
    return;
  }
  const { runWorker } = await import('../../worker');
  await runWorker(ctx.env);
}

async function migrateCommand(ctx: CommandContext, options: { dryRun?: boolean; json?: boolean }): Promise<void> {
  const done = await runMigrate(ctx.env, options, (line) => printLines([line]));
  if (options.json) printJson(done);
  else if (options.dryRun) printLines(['', '-- The SQL, in order:', ...done.sql.map((sql) => `${sql};`)]);
}

async function prune(ctx: CommandContext, options: { olderThan: number; dryRun?: boolean; json?: boolean }): Promise<void> {
  const done = await runPrune(ctx.env, await ctx.session.client(), { olderThanMs: options.olderThan, dryRun: options.dryRun }, (line) => {
    if (!options.json) printLines([line]);
  });
  if (options.json) printJson(done);
}

export function addMaintenanceCommands(program: Command, ctx: CommandContext): void {
  program
    .command('worker')
    .description('run a worker: the workflow and its activities, on TEMPORAL_TASK_QUEUE (needs the MQTT and MySQL settings)')
    .option('--check', `do not run one: exit ${EXIT.ok} when a worker of this host polls TEMPORAL_TASK_QUEUE (a container healthcheck), ${EXIT.failed} otherwise`)
    .action(ctx.exit.of((options: { check?: boolean }) => worker(ctx, options)));

  program
    .command('migrate')
    .description("create or upgrade the tool's own tables in CP_SYNC_DATABASE (the only command that runs DDL; needs CREATE rights there)")
    .option('--dry-run', 'print the SQL that would run; change nothing')
    .option('--json', 'print what was done as JSON')
    .action(ctx.exit.of((options: { dryRun?: boolean; json?: boolean }) => migrateCommand(ctx, options)));

  program
    .command('prune')
    .description("delete the rows of finished runs from the tool's tables (never a running run's)")
    .requiredOption('--older-than <duration>', 'prune runs started longer ago than this (e.g. 30d, 12h)', durationOption)
    .option('--dry-run', 'list what would be deleted; delete nothing')
    .option('--json', 'print what was done as JSON')
    .action(ctx.exit.of((options: { olderThan: number; dryRun?: boolean; json?: boolean }) => prune(ctx, options)));
}
