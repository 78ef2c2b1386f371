/**
 * `cp-sync migrate` and the version check that every other database user of the tool runs at start.
 * The check only reads; it never creates or alters anything.
 */
import mysql, { type RowDataPacket } from 'mysql2/promise';
import { ConfigError, type DatabaseConfig } from '../config';
import { connectionOptions, type Pool } from './pool';
import { MIGRATIONS, migrationsTableStatement, SCHEMA_VERSION } from './migrations';
import { quoteName, tablesFor, TOOL_TABLE_NAMES, type Tables } from './tables';

/** The tool's schema is missing, behind, or ahead of this cp-sync: the one line tells what to run. */
export class SchemaNotReadyError extends Error {
  override readonly name = 'SchemaNotReadyError';
}

const NO_SUCH_TABLE = 1146;
const NO_SUCH_DATABASE = 1049;

function errno(err: unknown): number | undefined {
  return typeof (err as { errno?: unknown })?.errno === 'number' ? (err as { errno: number }).errno : undefined;
}

type Queryable = Pick<Pool, 'query'>;

/** The recorded schema version; 0 when the database or the migrations table does not exist yet. */
export async function schemaVersion(db: Queryable, tables: Tables): Promise<number> {
  try {
    const [[row]] = await db.query<RowDataPacket[]>(`SELECT COALESCE(MAX(version), 0) AS version FROM ${tables.migrations}`);
    return Number(row?.version ?? 0);
  } catch (err) {
    if (errno(err) === NO_SUCH_TABLE || errno(err) === NO_SUCH_DATABASE) return 0;
    throw err;
  }
}

/** Throws SchemaNotReadyError unless the tool's schema is exactly at the version this cp-sync was built for. */
export async function assertSchemaReady(db: Queryable, config: Pick<DatabaseConfig, 'database' | 'toolDatabase' | 'host' | 'port'>): Promise<void> {
  // Connections open in OCPP_MYSQL_DATABASE: when it is missing, "the tool's tables are missing" would send the
  // operator to the wrong fix.
  await db.query('SELECT 1').catch((err: unknown) => {
    if (errno(err) !== NO_SUCH_DATABASE) throw err;
    throw new ConfigError(
      `OCPP_MYSQL_DATABASE: database ${config.database} does not exist on ${config.host}:${config.port}; expected the OCPP backend's database ` +
        `(for a local development or demo database, create it with its two tables: npm run schema)`,
    );
  });
  const version = await schemaVersion(db, tablesFor(config));
  const where = `database ${config.toolDatabase} on ${config.host}:${config.port}`;
  if (version === 0) {
    throw new SchemaNotReadyError(`The tool's tables are missing in ${where} (CP_SYNC_DATABASE); run: cp-sync migrate`);
  }
  if (version < SCHEMA_VERSION) {
    throw new SchemaNotReadyError(`The tool's tables in ${where} are at schema version ${version}, this cp-sync needs ${SCHEMA_VERSION}; run: cp-sync migrate`);
  }
  if (version > SCHEMA_VERSION) {
    throw new SchemaNotReadyError(
      `The tool's tables in ${where} are at schema version ${version}, newer than this cp-sync knows (${SCHEMA_VERSION}): upgrade cp-sync (run: cp-sync migrate only with the newer one)`,
    );
  }
}

export interface MigrationReport {
  toolDatabase: string;
  /** The version before and after. */
  from: number;
  to: number;
  createdDatabase: boolean;
  applied: { version: number; description: string }[];
  /** Tables of cp-sync 0.1 (created by its worker at start-up in OCPP_MYSQL_DATABASE) that were found, and what was done. */
  legacy: string[];
  /** With dryRun: the SQL that would run, in order. */
  sql: string[];
}

export interface MigrateOptions {
  dryRun?: boolean;
  /** Called with each line for people as the migration goes (stdout of `cp-sync migrate`). */
  say?: (line: string) => void;
}

async function databaseExists(connection: mysql.Connection, name: string): Promise<boolean> {
  const [rows] = await connection.query<RowDataPacket[]>('SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [name]);
  return rows.length > 0;
}

async function tableExists(connection: mysql.Connection, database: string, table: string): Promise<boolean> {
  const [rows] = await connection.query<RowDataPacket[]>('SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [database, table]);
  return rows.length > 0;
}

const LEGACY_TABLES = ['cp_sync_runs', 'cp_sync_observations', 'cp_sync_rejections', 'cp_sync_plan_stations', 'cp_sync_not_found'];

/**
 * cp-sync 0.1's worker created five tables in OCPP_MYSQL_DATABASE. Where the tool's schema is elsewhere they are left
 * alone (and named, to be dropped at will); where it is the same schema, they are renamed out of the way first.
 */
async function legacyStatements(connection: mysql.Connection, tables: Tables, dryRun: boolean): Promise<{ notes: string[]; sql: string[] }> {
  if (await tableExists(connection, tables.toolDatabase, TOOL_TABLE_NAMES.migrations)) return { notes: [], sql: [] };
  const found: string[] = [];
  for (const name of LEGACY_TABLES) if (await tableExists(connection, tables.ocppDatabase, name)) found.push(name);
  if (found.length === 0) return { notes: [], sql: [] };
  const ocpp = quoteName(tables.ocppDatabase);
  if (tables.toolDatabase !== tables.ocppDatabase) {
    return {
      notes: [`Found cp-sync 0.1's tables in ${tables.ocppDatabase} (${found.join(', ')}): no longer used; drop them once no run of 0.1 is in flight.`],
      sql: [],
    };
  }
  const renames = found.map((name) => `${ocpp}.${quoteName(name)} TO ${ocpp}.${quoteName(name.replace(/^cp_sync_/, 'cp_sync_v0_'))}`);
  return {
    notes: [`${dryRun ? 'Would rename' : 'Renamed'} cp-sync 0.1's tables ${found.join(', ')} to cp_sync_v0_*: no longer used; drop them once no run of 0.1 is in flight.`],
    sql: [`RENAME TABLE ${renames.join(', ')}`],
  };
}

/**
 * Creates CP_SYNC_DATABASE when absent (if the user may), then applies the pending migrations in order, recording each.
 * Two migrations at once take turns (a named lock); each statement is idempotent, so an interrupted run can be repeated.
 */
export async function migrate(config: DatabaseConfig, options: MigrateOptions = {}): Promise<MigrationReport> {
  const say = options.say ?? (() => undefined);
  const tables = tablesFor(config);
  const connection = await mysql.createConnection({ ...connectionOptions(config), database: undefined });
  const lockName = `cp_sync_migrate:${config.toolDatabase}`;
  let locked = false;
  try {
    const report: MigrationReport = { toolDatabase: config.toolDatabase, from: 0, to: 0, createdDatabase: false, applied: [], legacy: [], sql: [] };
    const run = async (sql: string): Promise<void> => {
      report.sql.push(sql);
      if (!options.dryRun) await connection.query(sql);
    };
    if (!options.dryRun) {
      const [[lock]] = await connection.query<RowDataPacket[]>('SELECT GET_LOCK(?, 60) AS ok', [lockName]);
      if (Number(lock?.ok) !== 1) throw new Error(`another cp-sync migrate holds the lock ${lockName}; try again when it has finished`);
      locked = true;
    }

    if (!(await databaseExists(connection, config.toolDatabase))) {
      try {
        await run(`CREATE DATABASE IF NOT EXISTS ${quoteName(config.toolDatabase)} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      } catch (err) {
        throw new Error(
          `cannot create database ${config.toolDatabase} (CP_SYNC_DATABASE) as ${config.user}: ${(err as Error).message}. ` +
            `Create it as an administrator (CREATE DATABASE \`${config.toolDatabase}\`), grant this user CREATE, ALTER, INDEX on it, then run cp-sync migrate again`,
        );
      }
      report.createdDatabase = true;
      say(`${options.dryRun ? 'Would create' : 'Created'} database ${config.toolDatabase}`);
    }
    report.from = report.createdDatabase ? 0 : await schemaVersion(connection, tables);

    const legacy = await legacyStatements(connection, tables, options.dryRun ?? false);
    for (const sql of legacy.sql) await run(sql);
    report.legacy = legacy.notes;
    legacy.notes.forEach(say);

    const pending = MIGRATIONS.filter((m) => m.version > report.from).sort((a, b) => a.version - b.version);
    if (pending.length > 0) await run(migrationsTableStatement(tables));
    for (const migration of pending) {
      for (const sql of migration.statements(tables)) await run(sql);
      report.sql.push(`INSERT IGNORE INTO ${tables.migrations} (version, description, applied) VALUES (${migration.version}, '…', UTC_TIMESTAMP())`);
      if (!options.dryRun) {
        await connection.query(`INSERT IGNORE INTO ${tables.migrations} (version, description, applied) VALUES (?, ?, UTC_TIMESTAMP())`, [
          migration.version,
          migration.description,
        ]);
      }
      report.applied.push({ version: migration.version, description: migration.description });
      say(`${options.dryRun ? 'Would apply' : 'Applied'} migration ${migration.version}: ${migration.description}`);
    }
    report.to = pending.at(-1)?.version ?? report.from;
    if (report.from > SCHEMA_VERSION) {
      say(`Schema version ${report.from} in ${config.toolDatabase} is newer than this cp-sync knows (${SCHEMA_VERSION}); nothing done`);
    } else {
      say(`Schema version ${report.to} in ${config.toolDatabase}${pending.length === 0 ? ' (up to date; nothing to do)' : options.dryRun ? ' after these statements' : ''}`);
    }
    return report;
  } finally {
    if (locked) await connection.query('SELECT RELEASE_LOCK(?)', [lockName]).catch(() => undefined);
    await connection.end().catch(() => undefined);
  }
}
