import { MIGRATIONS, migrationsTableStatement, SCHEMA_VERSION } from '../../src/db/migrations';
import { tablesFor, TOOL_TABLE_NAMES, RUN_TABLES } from '../../src/db/tables';

const tables = tablesFor({ database: 'ocpp', toolDatabase: 'cp_sync' });
const statements = MIGRATIONS.flatMap((m) => m.statements(tables));

describe('the migrations', () => {
  it('have versions 1, 2, … in order, and the schema version is the last', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('are idempotent statement by statement, so an interrupted migration can run again', () => {
    for (const sql of [migrationsTableStatement(tables), ...statements]) {
      expect(sql).toMatch(/^(CREATE TABLE IF NOT EXISTS|INSERT IGNORE INTO) /);
    }
  });

  it("create every table of the tool, in the tool's schema only: never a table of ocpp-db", () => {
    const created = [migrationsTableStatement(tables), ...statements].map((sql) => /^CREATE TABLE IF NOT EXISTS (\S+)/.exec(sql)?.[1]).filter(Boolean);
    expect(created.sort()).toEqual(Object.values(TOOL_TABLE_NAMES).map((name) => `\`cp_sync\`.\`${name}\``).sort());
    for (const sql of statements) expect(sql).not.toMatch(/`ocpp`|charging_/);
  });

  it('store device ids as ascii_bin: two ids that differ in case stay two devices, whatever ocpp-db collates', () => {
    const deviceColumns = statements.join('\n').match(/device_(id|plain) [^\n,]+/g) ?? [];
    expect(deviceColumns.length).toBeGreaterThan(0);
    for (const column of deviceColumns) expect(column).toContain('CHARACTER SET ascii COLLATE ascii_bin');
  });

  it('key every per-run table by run_key, which prune deletes by', () => {
    for (const table of RUN_TABLES) {
      const sql = statements.find((s) => s.startsWith(`CREATE TABLE IF NOT EXISTS ${tables[table]}`));
      expect(sql).toMatch(/run_key VARCHAR\(64\)/);
    }
  });
});

describe('tablesFor', () => {
  it('names ocpp-db tables in OCPP_MYSQL_DATABASE and the tool tables in CP_SYNC_DATABASE', () => {
    expect(tables.stations).toBe('`ocpp`.`charging_stations`');
    expect(tables.points).toBe('`ocpp`.`charging_points`');
    expect(tables.runs).toBe('`cp_sync`.`cp_sync_runs`');
  });

  it('refuses a name that could break out of its quotes', () => {
    expect(() => tablesFor({ database: 'ocpp`; DROP', toolDatabase: 'cp_sync' })).toThrow(/not a plain database or table name/);
  });
});
