/**
 * Every table the tool touches, by its schema-qualified name. ocpp-db's two tables live in OCPP_MYSQL_DATABASE;
 * the tool's own tables live in CP_SYNC_DATABASE (default `cp_sync`), on the same server, so that the runtime user
 * needs no DDL right on the OCPP backend's database. Queries join across the two schemas.
 */
import type { DatabaseConfig } from '../config';
import type { Pool } from './pool';

/** The unqualified names of the tool's tables; the `cp_sync_` prefix keeps them apart when both schemas are one. */
export const TOOL_TABLE_NAMES = {
  migrations: 'cp_sync_schema_migrations',
  locks: 'cp_sync_locks',
  runs: 'cp_sync_runs',
  observations: 'cp_sync_observations',
  rejections: 'cp_sync_rejections',
  planStations: 'cp_sync_plan_stations',
  notFound: 'cp_sync_not_found',
  silentStations: 'cp_sync_silent_stations',
  ambiguities: 'cp_sync_ambiguities',
  /** The watch's devices (cp-sync watch): one row per device and watch, not per run. */
  watchDevices: 'cp_sync_watch_devices',
  /** The windowed sync's plan built during its window (store/window-planner.ts). */
  windowState: 'cp_sync_window_state',
  windowDevices: 'cp_sync_window_devices',
  windowDirty: 'cp_sync_window_dirty',
} as const;

/** The tables that hold one run's rows, keyed by `run_key` (what `cp-sync prune` deletes). */
export const RUN_TABLES = [
  'observations',
  'rejections',
  'planStations',
  'notFound',
  'silentStations',
  'ambiguities',
  'windowDirty',
  'windowDevices',
  'windowState',
  'runs',
] as const;

export type ToolTable = keyof typeof TOOL_TABLE_NAMES;

export type Tables = { [K in ToolTable]: string } & {
  stations: string;
  points: string;
  /** The two schemas, as configured (unquoted). */
  ocppDatabase: string;
  toolDatabase: string;
};

/** A database or table name in backquotes. Names are validated by the configuration; a backquote never passes. */
export function quoteName(name: string): string {
  if (!/^[A-Za-z0-9_$-]{1,64}$/.test(name)) throw new Error(`not a plain database or table name: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

export function tablesFor(config: Pick<DatabaseConfig, 'database' | 'toolDatabase'>): Tables {
  const ocpp = quoteName(config.database);
  const tool = quoteName(config.toolDatabase);
  const own = Object.fromEntries(Object.entries(TOOL_TABLE_NAMES).map(([key, name]) => [key, `${tool}.${quoteName(name)}`])) as { [K in ToolTable]: string };
  return {
    ...own,
    stations: `${ocpp}.\`charging_stations\``,
    points: `${ocpp}.\`charging_points\``,
    ocppDatabase: config.database,
    toolDatabase: config.toolDatabase,
  };
}

/** The pool and the schema-qualified tables: what every query of the tool needs. */
export interface SyncDatabase {
  pool: Pool;
  tables: Tables;
}
