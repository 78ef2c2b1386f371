/**
 * The worker's start-up check that its namespace has the custom search attributes the workflow upserts: without one,
 * every run's workflow task fails ("search attribute … is not defined") and the runs stand still, so the worker
 * refuses to start and names the commands instead.
 */
import type { NativeConnection } from '@temporalio/worker';
import { ConfigError } from '../config';

/** gRPC statuses of a server or an API key that does not let us list them: the check is then skipped. */
const CANNOT_CHECK = new Set([7 /* PERMISSION_DENIED */, 12 /* UNIMPLEMENTED */, 16 /* UNAUTHENTICATED */]);

export async function assertSearchAttributes(
  connection: NativeConnection,
  namespace: string,
  required: readonly { name: string; type: string }[],
): Promise<'checked' | 'not checked'> {
  let existing: Record<string, unknown>;
  try {
    existing = (await connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    if (CANNOT_CHECK.has((err as { code?: number }).code ?? -1)) return 'not checked';
    throw err;
  }
  const missing = required.filter(({ name }) => !(name in existing));
  if (missing.length === 0) return 'checked';
  throw new ConfigError(
    `TEMPORAL_NAMESPACE: namespace ${namespace} lacks the search attribute${missing.length > 1 ? 's' : ''} ${missing.map((m) => m.name).join(', ')} that every sync sets; ` +
      `register ${missing.length > 1 ? 'them' : 'it'} once (README "Production"): ` +
      missing.map(({ name, type }) => `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${type}`).join('; '),
  );
}
