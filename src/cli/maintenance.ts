/** The database side of cp-sync: `migrate`, `prune`, and the schema check before a sync starts. */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { ConfigError, loadDatabaseConfig, type DatabaseConfig, type Env } from '../config';
import { databaseConnectionError } from '../db/errors';
import { assertSchemaReady, migrate, SchemaNotReadyError, type MigrationReport } from '../db/migrator';
import { createPool } from '../db/pool';
import { deleteRun, runsStartedBefore } from '../store/pruner';
import { tablesFor, type SyncDatabase } from '../db/tables';
import { CliError, EXIT } from '../domain/exit-codes';

/** Opens the tool's database after checking its schema version; `close` ends the pool. */
export async function openCheckedDatabase(config: DatabaseConfig): Promise<SyncDatabase & { close: () => Promise<void> }> {
  const pool = createPool(config, 2);
  try {
    await assertSchemaReady(pool, config);
  } catch (err) {
    await pool.end();
    throw err;
  }
  return { pool, tables: tablesFor(config), close: () => pool.end() };
}

/** SchemaNotReadyError becomes the CLI's one line and its own exit status (main's one catch applies it). */
export function schemaError(err: unknown): unknown {
  return err instanceof SchemaNotReadyError ? new CliError(err.message, EXIT.schemaNotReady) : err;
}

/**
 * Before a sync starts: where the CLI has the database settings too, a schema that is missing or behind stops the
 * start (the worker would refuse to run it). Without them the worker's own check is the guard.
 */
export async function checkSchemaBeforeStart(env: Env, warn: (line: string) => void): Promise<void> {
  if (!env.OCPP_MYSQL_DATABASE?.trim() || !env.OCPP_MYSQL_USER?.trim()) return;
  const config = loadDatabaseConfig(env);
  const pool = createPool(config, 1);
  try {
    await assertSchemaReady(pool, config);
  } catch (err) {
    if (err instanceof SchemaNotReadyError || err instanceof ConfigError) throw err;
    warn(`Note: could not check the tool's schema in ${config.toolDatabase} (${databaseConnectionError(err, config)?.message ?? (err as Error).message}); the worker checks it too`);
  } finally {
    await pool.end();
  }
}

export async function runMigrate(env: Env, options: { dryRun?: boolean; json?: boolean }, say: (line: string) => void): Promise<MigrationReport> {
  const config = loadDatabaseConfig(env);
  return migrate(config, { dryRun: options.dryRun, say: options.json ? undefined : say });
}

export interface PruneReport {
  olderThan: string;
  dryRun: boolean;
  pruned: { runKey: string; workflowId: string; started: string; rows: number }[];
  keptRunning: { runKey: string; workflowId: string; started: string }[];
  rows: number;
}

/** Is this run still open in Temporal? A run Temporal no longer knows (retention passed) has ended. */
async function isRunning(client: Client, workflowId: string, runId: string): Promise<boolean> {
  try {
    const description = await client.workflow.getHandle(workflowId, runId).describe();
    return description.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/**
 * Deletes the rows of runs started more than `olderThanMs` ago that have ended; a run still running (awaiting approval
 * for days, say) is never touched.
 */
export async function runPrune(env: Env, client: Client, options: { olderThanMs: number; dryRun?: boolean }, say: (line: string) => void): Promise<PruneReport> {
  const config = loadDatabaseConfig(env);
  const db = await openCheckedDatabase(config);
  const cutoff = new Date(Date.now() - options.olderThanMs);
  const report: PruneReport = { olderThan: cutoff.toISOString(), dryRun: options.dryRun ?? false, pruned: [], keptRunning: [], rows: 0 };
  try {
    for (const run of await runsStartedBefore(db, cutoff)) {
      const started = run.started.toISOString();
      if (await isRunning(client, run.workflowId, run.runKey)) {
        report.keptRunning.push({ runKey: run.runKey, workflowId: run.workflowId, started });
        say(`kept   ${run.workflowId} (run ${run.runKey}, started ${started}): still running`);
        continue;
      }
      const rows = options.dryRun ? 0 : await deleteRun(db, run.runKey);
      report.rows += rows;
      report.pruned.push({ runKey: run.runKey, workflowId: run.workflowId, started, rows });
      say(`${options.dryRun ? 'would prune' : 'pruned'} ${run.workflowId} (run ${run.runKey}, started ${started})${options.dryRun ? '' : `: ${rows} rows`}`);
    }
  } finally {
    await db.close();
  }
  say(
    `${options.dryRun ? 'Would prune' : 'Pruned'} ${report.pruned.length} finished runs started before ${report.olderThan}` +
      `${options.dryRun ? '' : ` (${report.rows} rows deleted from ${config.toolDatabase})`}; kept ${report.keptRunning.length} running`,
  );
  return report;
}
