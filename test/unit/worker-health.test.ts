import { POLLER_FRESH_MS, pollerProblem } from '../../src/worker-health';

const now = Date.parse('2026-11-28T22:00:00Z');

describe('pollerProblem (cp-sync worker --check)', () => {
  test.each([
    ['a poller of this host seen just now', [{ identity: '1@web-1', lastAccessMs: now - 5_000 }], undefined],
    ['the freshest of several pollers of this host counts', [{ identity: '1@web-1', lastAccessMs: now - 10 * POLLER_FRESH_MS }, { identity: '7@web-1', lastAccessMs: now - 1_000 }], undefined],
    ['only other hosts poll', [{ identity: '1@web-2', lastAccessMs: now }], 'no worker of host web-1 among the 1 pollers'],
    ['a host name that only ends like this one', [{ identity: '1@xweb-1', lastAccessMs: now }], 'no worker of host web-1 among the 1 pollers'],
    ['nobody polls', [], 'no worker of host web-1 among the 0 pollers'],
    ['this host stopped polling', [{ identity: '1@web-1', lastAccessMs: now - POLLER_FRESH_MS - 1_000 }], 'the worker of host web-1 last polled 151 s ago'],
  ])('%s', (_case, pollers, expected) => {
    expect(pollerProblem(pollers, 'web-1', now)).toBe(expected);
  });
});
