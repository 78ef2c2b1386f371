import type { NativeConnection } from '@temporalio/worker';
import { ConfigError } from '../../src/config';
import { assertSearchAttributes } from '../../src/temporal/search-attributes';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/visibility';

/** A connection whose server answers listSearchAttributes with `answer` (a result, or a gRPC error). */
function serverWith(answer: { customAttributes: Record<string, number> } | { code: number }): NativeConnection {
  const listSearchAttributes = (): Promise<unknown> => ('code' in answer ? Promise.reject(Object.assign(new Error('grpc'), answer)) : Promise.resolve(answer));
  return { operatorService: { listSearchAttributes } } as unknown as NativeConnection;
}

describe("the worker's search-attribute check", () => {
  it('passes when the namespace has them all', async () => {
    const all = Object.fromEntries(SEARCH_ATTRIBUTES.map(({ name }) => [name, 2]));
    await expect(assertSearchAttributes(serverWith({ customAttributes: all }), 'default', SEARCH_ATTRIBUTES)).resolves.toBe('checked');
  });

  it('refuses to start without one, naming the namespace, what is missing and the command that registers it', async () => {
    const err = await assertSearchAttributes(serverWith({ customAttributes: { CpSyncPhase: 2 } }), 'prod', SEARCH_ATTRIBUTES).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(
      'TEMPORAL_NAMESPACE: namespace prod lacks the search attributes CpSyncPointsToCreate, CpSyncDatabase that every sync sets; register them once (README "Production"): ' +
        'temporal operator search-attribute create --namespace prod --name CpSyncPointsToCreate --type Int; ' +
        'temporal operator search-attribute create --namespace prod --name CpSyncDatabase --type Keyword',
    );
  });

  it.each([7, 12, 16])('skips the check when the server or the key may not list them (gRPC %i)', async (code) => {
    await expect(assertSearchAttributes(serverWith({ code }), 'default', SEARCH_ATTRIBUTES)).resolves.toBe('not checked');
  });
});
