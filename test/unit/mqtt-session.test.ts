import { protocolVersionOf, sessionClientId, shareGroupOf } from '../../src/mqtt/collector';

const RUN = '01a21933-9537-73da-9e21-2cdc7c974c4d';

describe('sessionClientId', () => {
  it('is the same for every attempt of a run, and 23 characters with the default prefix (what every MQTT 3.1.1 broker accepts)', () => {
    expect(sessionClientId(RUN)).toBe(sessionClientId(RUN));
    expect(sessionClientId(RUN)).toMatch(/^cp-sync-[0-9a-f]{15}$/);
    expect(sessionClientId(RUN)).toHaveLength(23);
  });

  it('differs between runs', () => {
    expect(sessionClientId(RUN)).not.toBe(sessionClientId('01a21933-9537-73da-9e21-2cdc7c974c4e'));
  });

  it.each([
    ['fleet-sync', /^fleet-sync-[0-9a-f]{15}$/],
    ['', /^cp-sync-[0-9a-f]{15}$/],
    [undefined, /^cp-sync-[0-9a-f]{15}$/],
    [42, /^cp-sync-[0-9a-f]{15}$/],
  ])('takes the clientId of CLOUD_CREDENTIALS (%p) as its prefix, so ACLs on client-id prefixes hold', (configured, expected) => {
    expect(sessionClientId(RUN, configured)).toMatch(expected);
    expect(sessionClientId(RUN, configured).slice(-15)).toBe(sessionClientId(RUN).slice(-15));
  });
});

describe('protocolVersionOf', () => {
  it.each([
    [{}, 5],
    [{ protocolVersion: 5 }, 5],
    [{ protocolVersion: 4 }, 4],
    [{ protocolVersion: 3 }, 3],
    [{ protocolVersion: '4' }, 4],
    [{ protocolVersion: 'five' }, 5],
  ])('%p → MQTT protocol level %p', (options, version) => {
    expect(protocolVersionOf(options)).toBe(version);
  });
});

describe('shareGroupOf', () => {
  it("is one group per run (a run's collectors share the stream; two runs each hear everything), a valid topic level", () => {
    expect(shareGroupOf(RUN)).toBe(shareGroupOf(RUN));
    expect(shareGroupOf(RUN)).not.toBe(shareGroupOf('01a21933-9537-73da-9e21-2cdc7c974c4e'));
    expect(shareGroupOf(RUN)).toMatch(/^cp-sync-[0-9a-f]{15}$/);
  });
});
