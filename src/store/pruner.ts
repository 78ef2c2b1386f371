/**
 * Retention of the tool's own tables: the rows of runs started before a cut-off. Which of those runs have ended is
 * Temporal's to say (the caller asks it); this module only finds candidates and deletes a run's rows, in small
 * chunks so that a large run never holds a long transaction.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import { RUN_TABLES, type SyncDatabase } from '../db/tables';

const ROWS_PER_DELETE = 5000;

export interface RunRecord {
  runKey: string;
  workflowId: string;
  started: Date;
}

export async function runsStartedBefore({ pool, tables }: SyncDatabase, cutoff: Date): Promise<RunRecord[]> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT run_key, workflow_id, started FROM ${tables.runs} WHERE started < ? ORDER BY started`, [cutoff]);
  return rows.map((r) => ({ runKey: String(r.run_key), workflowId: String(r.workflow_id), started: r.started as Date }));
}

/** Deletes every row of one run; the run's record goes last, so an interrupted prune finds the run again. */
export async function deleteRun({ pool, tables }: SyncDatabase, runKey: string): Promise<number> {
  let deleted = 0;
  for (const table of RUN_TABLES) {
    for (;;) {
      const [result] = await pool.query<ResultSetHeader>(`DELETE FROM ${tables[table]} WHERE run_key = ? LIMIT ${ROWS_PER_DELETE}`, [runKey]);
      deleted += result.affectedRows;
      if (result.affectedRows < ROWS_PER_DELETE) break;
    }
  }
  return deleted;
}
