/** `cp-sync list`: the syncs and watches of the namespace, from Temporal visibility (the query and the table are in ../list.ts). */
import type { Command } from 'commander';
import { formatRuns, LIST_PHASES, listRuns, type ListPhase } from '../../client/list';
import { databaseOption, limitOption, phaseOption, sinceOption } from '../options';
import { printJson, printLines } from '../out';
import type { CommandContext } from '../session';

interface ListCommandOptions {
  phase?: ListPhase;
  since?: Date;
  database?: string;
  limit: number;
  json?: boolean;
}

async function list(ctx: CommandContext, options: ListCommandOptions): Promise<void> {
  const runs = await listRuns(await ctx.session.client(), options);
  if (options.json) printJson(runs);
  else printLines(formatRuns(runs));
}

export function addListCommand(program: Command, ctx: CommandContext): void {
  program
    .command('list')
    .description('list the syncs of the namespace, newest first, from Temporal visibility (ended runs too; no worker needed)')
    .option('--phase <phase>', `only runs in this phase (a sync's or a watch's): ${LIST_PHASES.join(', ')}`, phaseOption)
    .option('--since <when>', 'only runs started since a duration ago (24h, 7d) or a date (2026-11-28, ISO 8601)', (value: string) => sinceOption(value))
    .option('--database <name>', 'only runs meant for this OCPP database (CpSyncDatabase: the OCPP_MYSQL_DATABASE of whoever started them)', databaseOption)
    .option('--limit <n>', 'at most this many runs', limitOption, 20)
    .option('--json', 'print the runs as a JSON array')
    .action(ctx.exit.of((options: ListCommandOptions) => list(ctx, options)));
}
