/** `cp-sync schedule …`: syncs started by a Temporal Schedule (the Temporal side is in ../schedules.ts). */
import type { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { CliError, EXIT } from '../../domain/exit-codes';
import { webUiLink } from '../../domain/web-ui-link';
import { checkSchemaBeforeStart } from '../maintenance';
import { countOption, durationOption, timezoneOption } from '../options';
import { note, printJson, printLines } from '../out';
import { checkApprovalTimeout, scheduleSpec, shortestInterval, type ScheduleSpecOption } from '../../client/schedule-spec';
import { checkUpdateOptions, updatedInput, updatedSpec, type ScheduleUpdateOptions } from '../schedule-update';
import { formatSchedule, settingsOf, viewOfDescription, type ScheduleView } from '../../client/schedule-view';
import { createSchedule, describeSchedule, listSchedules, triggerSchedule, updateSchedule, withOutcomes } from '../../client/schedules';
import { shortestGap } from '../../domain/cron';
import type { CommandContext } from '../session';
import { addSyncOptions, decisionNote, percentOption, syncInputFrom, type SyncOptions } from '../sync-options';
import { operatorName } from '../../client/sync-client';

interface ScheduleCreateOptions extends SyncOptions {
  every?: number;
  cron?: string;
  timezone?: string;
  note?: string;
  paused?: boolean;
  force?: boolean;
  json?: boolean;
}

/** The approval-timeout rule (schedule-spec.ts): refused with exit 2, or with --force a warning on stderr. */
function checkTimeoutAgainstSpec(approvalTimeoutMs: number, source: string, intervalMs: number | undefined, specText: string, force?: boolean): void {
  const warning = checkApprovalTimeout({ approvalTimeoutMs, source, intervalMs, specText, force });
  if (warning) note(warning);
}

async function create(ctx: CommandContext, scheduleId: string, options: ScheduleCreateOptions): Promise<void> {
  const input = syncInputFrom(options, ctx.env);
  const spec = { everyMs: options.every, cron: options.cron, timezone: options.timezone };
  // A bad --every or --cron is bad usage, told before any connection.
  const { text } = scheduleSpec(spec);
  checkTimeoutAgainstSpec(input.approvalTimeoutMs, options.approvalTimeout !== undefined ? '--approval-timeout' : 'APPROVAL_TIMEOUT', shortestInterval(spec), text, options.force);
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
    database: ctx.env.OCPP_MYSQL_DATABASE?.trim() || undefined,
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
  const client = await ctx.session.client();
  const views = await Promise.all((await listSchedules(client)).map((view) => withRunOutcomes(client, view)));
  if (options.json) printJson(views);
  else if (views.length === 0) printLines(['No sync schedules (create one with: cp-sync schedule create <id> --cron "0 2 * * *")']);
  else printLines(views.flatMap((view) => formatSchedule(view)));
}

/** Each recent run with its outcome, read from the run itself: list and describe tell the same. */
async function withRunOutcomes(client: Client, view: ScheduleView): Promise<ScheduleView> {
  return { ...view, recentRuns: await withOutcomes(client, view.recentRuns) };
}

/** A schedule as describe shows it: each recent run with its outcome. */
async function describedView(ctx: CommandContext, scheduleId: string): Promise<ScheduleView> {
  const client = await ctx.session.client();
  return withRunOutcomes(client, viewOfDescription((await describeSchedule(client, scheduleId)).description));
}

async function describe(ctx: CommandContext, scheduleId: string, options: { json?: boolean }): Promise<void> {
  const view = await describedView(ctx, scheduleId);
  if (options.json) printJson(view);
  else printLines(formatSchedule(view));
}

async function update(ctx: CommandContext, scheduleId: string, options: ScheduleUpdateOptions): Promise<void> {
  checkUpdateOptions(options);
  const client = await ctx.session.client();
  const { handle, description } = await describeSchedule(client, scheduleId);
  const settings = settingsOf(description);
  const current = viewOfDescription(description);
  if (!current.input) throw new CliError(`Schedule ${scheduleId} has no sync input; delete it and create it again.`, EXIT.failed);
  const input = updatedInput(current.input, options);
  const spec = updatedSpec(options, settings);
  const known: ScheduleSpecOption | undefined = spec ?? (settings?.everyMs !== undefined || settings?.cron !== undefined ? settings : undefined);
  // Without the spec as asked for (a schedule older than the memo), the server's next times tell the interval.
  const intervalMs = known ? shortestInterval(known) : shortestGap(description.info.nextActionTimes.map((d) => d.getTime()));
  const specText = spec ? scheduleSpec(spec, 'schedule update').text : current.spec;
  checkTimeoutAgainstSpec(input.approvalTimeoutMs, options.approvalTimeout !== undefined ? '--approval-timeout' : "the schedule's", intervalMs, specText, options.force);
  await updateSchedule(handle, { spec, input, note: options.note, settings, specText: current.spec });
  const view = await describedView(ctx, scheduleId);
  if (options.json) printJson(view);
  else printLines([`Updated schedule ${scheduleId}${decisionNote(input)}`, ...formatSchedule(view).slice(1)]);
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

const FORCE_HELP = 'keep an approval timeout at or above the time between two runs (a waiting run makes the next one skip); warns';

/** When the syncs start: create's and update's. */
function addSpecOptions(command: Command): Command {
  return command
    .option('--every <duration>', 'start a sync this often (e.g. 24h, 30m)', durationOption)
    .option('--cron <expr>', 'start a sync at these times, e.g. "0 2 * * *" (02:00 every day)')
    .option('--timezone <tz>', 'IANA time zone of --cron, e.g. Europe/Berlin (default: UTC); describe and list show the next times in it', timezoneOption);
}

export function addScheduleCommands(program: Command, ctx: CommandContext): void {
  const schedule = program.command('schedule').description('run syncs on a Temporal Schedule (e.g. nightly), with an optional auto-approve limit');

  addSyncOptions(
    addSpecOptions(
      schedule
        .command('create <scheduleId>')
        .description('create a schedule; each run is a sync with workflow id <scheduleId>-<scheduled time>; a run still going makes the next one skip'),
    )
      .option('--note <text>', 'why the schedule exists, shown by describe and in the Web UI')
      .option('--paused', 'create it paused (start it with: cp-sync schedule unpause)')
      .option('--force', FORCE_HELP)
      .option('--json', 'print {"scheduleId"}'),
  ).action(ctx.exit.of((scheduleId: string, options: ScheduleCreateOptions) => create(ctx, scheduleId, options)));

  addSpecOptions(schedule.command('update <scheduleId>').description("change a schedule in place (its id, recent runs and counters stay); the same rules as create"))
    .option('--duration <ms>', 'collection window of each run', durationOption)
    .option('--approval-timeout <duration>', 'how long a plan waits for approval', durationOption)
    .option('--account <account>', 'listen to this MQTT account only (topic level 1)')
    .option('--auto-approve-max-points <n>', 'apply without an operator a plan that creates at most n points', countOption)
    .option('--auto-approve-max-stations <m>', 'apply without an operator a plan that changes at most m stations', countOption)
    .option('--max-silent-stations <percent>', 'when more live stations than this share sent nothing, the plan waits for a person, auto-approve or not (100: off)', percentOption)
    .option('--note <text>', 'a new note on why the schedule exists (replaces the creation note)')
    .option('--force', FORCE_HELP)
    .option('--json', 'print the updated schedule as describe --json does')
    .action(ctx.exit.of((scheduleId: string, options: ScheduleUpdateOptions) => update(ctx, scheduleId, options)));

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
