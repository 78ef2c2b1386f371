/** `cp-sync schedule …`: syncs started by a Temporal Schedule (the Temporal side is in client/schedules.ts). */
import type { Command } from 'commander';
import { webUiLink } from '../../domain/web-ui-link';
import { checkSchemaBeforeStart } from '../maintenance';
import { durationOption } from '../options';
import { note, printJson, printLines } from '../out';
import { createSchedule, describeSchedule, formatSchedule, listSchedules, scheduleSpec, triggerSchedule, viewOfDescription } from '../../client/schedules';
import type { CommandContext } from '../session';
import { addSyncOptions, decisionNote, syncInputFrom, type SyncOptions } from '../sync-options';
import { operatorName } from '../../client/sync-client';

interface ScheduleCreateOptions extends SyncOptions {
  every?: number;
  cron?: string;
  timezone?: string;
  note?: string;
  paused?: boolean;
  json?: boolean;
}

async function create(ctx: CommandContext, scheduleId: string, options: ScheduleCreateOptions): Promise<void> {
  const input = syncInputFrom(options, ctx.env);
  const spec = { everyMs: options.every, cron: options.cron, timezone: options.timezone };
  // A bad --every or --cron is bad usage, told before any connection.
  scheduleSpec(spec);
  await checkSchemaBeforeStart(ctx.env, note);
  const client = await ctx.session.client();
  const temporal = ctx.session.temporal;
  await createSchedule(client, {
    scheduleId,
    taskQueue: temporal.taskQueue,
    input,
    spec,
    note: options.note ?? `created by ${operatorName()} with cp-sync`,
    paused: options.paused,
  });
  if (options.json) {
    printJson({ scheduleId });
    return;
  }
  const { description } = await describeSchedule(client, scheduleId);
  printLines([
    `Created schedule ${scheduleId} on task queue ${temporal.taskQueue}${decisionNote(input)}`,
    ...formatSchedule(viewOfDescription(description)).slice(1),
    `  Web UI: ${temporal.uiUrl}/namespaces/${encodeURIComponent(temporal.namespace)}/schedules/${encodeURIComponent(scheduleId)}`,
  ]);
}

async function list(ctx: CommandContext, options: { json?: boolean }): Promise<void> {
  const views = await listSchedules(await ctx.session.client());
  if (options.json) printJson(views);
  else if (views.length === 0) printLines(['No sync schedules (create one with: cp-sync schedule create <id> --cron "0 2 * * *")']);
  else printLines(views.flatMap((view) => formatSchedule(view)));
}

async function describe(ctx: CommandContext, scheduleId: string, options: { json?: boolean }): Promise<void> {
  const { description } = await describeSchedule(await ctx.session.client(), scheduleId);
  const view = viewOfDescription(description);
  if (options.json) printJson(view);
  else printLines(formatSchedule(view));
}

async function pauseOrUnpause(ctx: CommandContext, pause: boolean, scheduleId: string, options: { note?: string }): Promise<void> {
  const { handle } = await describeSchedule(await ctx.session.client(), scheduleId);
  const why = options.note ?? `${pause ? 'paused' : 'unpaused'} by ${operatorName()} with cp-sync`;
  await (pause ? handle.pause(why) : handle.unpause(why));
  printLines([`${pause ? 'Paused' : 'Unpaused'} schedule ${scheduleId}`]);
}

async function trigger(ctx: CommandContext, scheduleId: string, options: { json?: boolean }): Promise<void> {
  const started = await triggerSchedule(await ctx.session.client(), scheduleId);
  if (options.json) printJson(started);
  else printLines([`Started sync ${started.workflowId} (run ${started.runId})`, `  Web UI: ${webUiLink(ctx.session.temporal, started.workflowId, started.runId)}`]);
}

async function remove(ctx: CommandContext, scheduleId: string): Promise<void> {
  const { handle } = await describeSchedule(await ctx.session.client(), scheduleId);
  await handle.delete();
  printLines([`Deleted schedule ${scheduleId}`]);
}

export function addScheduleCommands(program: Command, ctx: CommandContext): void {
  const schedule = program.command('schedule').description('run syncs on a Temporal Schedule (e.g. nightly), with an optional auto-approve limit');

  addSyncOptions(
    schedule
      .command('create <scheduleId>')
      .description('create a schedule; each run is a sync with workflow id <scheduleId>-<scheduled time>; a run still going makes the next one skip')
      .option('--every <duration>', 'start a sync this often (e.g. 24h, 30m)', durationOption)
      .option('--cron <expr>', 'start a sync at these times, e.g. "0 2 * * *" (02:00 every day)')
      .option('--timezone <tz>', 'IANA time zone of --cron, e.g. Europe/Berlin (default: UTC)')
      .option('--note <text>', 'why the schedule exists, shown by describe and in the Web UI')
      .option('--paused', 'create it paused (start it with: cp-sync schedule unpause)')
      .option('--json', 'print {"scheduleId"}'),
  ).action(ctx.exit.of((scheduleId: string, options: ScheduleCreateOptions) => create(ctx, scheduleId, options)));

  schedule
    .command('list')
    .description('the schedules of this namespace that start syncs')
    .option('--json', 'print them as a JSON array')
    .action(ctx.exit.of((options: { json?: boolean }) => list(ctx, options)));

  schedule
    .command('describe <scheduleId>')
    .description('spec, sync options, next times, running and recent runs')
    .option('--json', 'print it as JSON')
    .action(ctx.exit.of((scheduleId: string, options: { json?: boolean }) => describe(ctx, scheduleId, options)));

  for (const pause of [true, false]) {
    schedule
      .command(`${pause ? 'pause' : 'unpause'} <scheduleId>`)
      .description(pause ? 'stop starting syncs (a running one goes on)' : 'start syncs again at the next scheduled time')
      .option('--note <text>', 'why (shown by describe)')
      .action(ctx.exit.of((scheduleId: string, options: { note?: string }) => pauseOrUnpause(ctx, pause, scheduleId, options)));
  }

  schedule
    .command('trigger <scheduleId>')
    .description("start one of the schedule's syncs now (refused while one of its syncs is still going)")
    .option('--json', 'print {"workflowId", "runId"}')
    .action(ctx.exit.of((scheduleId: string, options: { json?: boolean }) => trigger(ctx, scheduleId, options)));

  schedule
    .command('delete <scheduleId>')
    .description('delete the schedule (its syncs, running or ended, are kept)')
    .action(ctx.exit.of((scheduleId: string) => remove(ctx, scheduleId)));
}
