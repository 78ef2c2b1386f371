import type { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/visibility';

const INDEXED_TYPE = {
  Keyword: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  Int: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
} as const;

/** gRPC UNIMPLEMENTED: the time-skipping test server cannot list search attributes (it can add them). */
const UNIMPLEMENTED = 12;

/**
 * Registers the runs' search attributes (an upsert of an unknown one blocks the workflow task) where they are
 * missing: on the time-skipping server a test starts, or on the dev server when `npm run stack:up` did not run.
 */
export async function registerSearchAttributes(connection: Connection, namespace = 'default'): Promise<void> {
  let existing: Record<string, unknown> = {};
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNIMPLEMENTED) throw err;
  }
  const missing = SEARCH_ATTRIBUTES.filter(({ name }) => !(name in existing));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map(({ name, type }) => [name, INDEXED_TYPE[type]])),
  });
}
