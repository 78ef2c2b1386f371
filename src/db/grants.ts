/**
 * The least privileges the worker (and `cp-sync prune`) need once `cp-sync migrate` has run: reading stations,
 * reading and inserting points (shared locking reads need only SELECT, on MySQL 8.0.22+ as on MariaDB), and
 * reading and writing the tool's own tables. No DDL anywhere, no UPDATE or DELETE on ocpp-db.
 * The README's grants section shows exactly these statements; the e2e tests run every sync as such a user.
 */
import type { DatabaseConfig } from '../config';
import { quoteName, TOOL_TABLE_NAMES } from './tables';

/** `account` is the MySQL account as written in SQL, e.g. `'cp_sync'@'%'`. */
export function runtimeGrants(config: Pick<DatabaseConfig, 'database' | 'toolDatabase'>, account: string): string[] {
  const ocpp = quoteName(config.database);
  const tool = quoteName(config.toolDatabase);
  const grants = [`GRANT SELECT ON ${ocpp}.\`charging_stations\` TO ${account}`, `GRANT SELECT, INSERT ON ${ocpp}.\`charging_points\` TO ${account}`];
  // One schema for both (CP_SYNC_DATABASE = OCPP_MYSQL_DATABASE): the tool's rights go on its own tables only.
  if (config.toolDatabase === config.database) {
    for (const table of Object.values(TOOL_TABLE_NAMES)) grants.push(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${ocpp}.${quoteName(table)} TO ${account}`);
  } else {
    grants.push(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${tool}.* TO ${account}`);
  }
  return grants;
}
