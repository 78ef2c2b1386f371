import { asPointStationId, asText, describeLayout, type OcppLayout } from '../../src/db/ocpp-layout';

const unicode: OcppLayout = {
  stationId: { kind: 'text', charset: 'utf8mb4', collation: 'utf8mb4_unicode_ci' },
  pointStationId: { kind: 'text', charset: 'latin1', collation: 'latin1_swedish_ci' },
};

describe('comparisons with ocpp-db columns name their collation', () => {
  it("converts a device id to the station_id column's own character set and collation (the column stays bare, so its index serves)", () => {
    expect(asText('o.device_id', unicode.stationId)).toBe('CONVERT(o.device_id USING utf8mb4) COLLATE utf8mb4_unicode_ci');
  });

  it('compares with a binary column as bytes', () => {
    expect(asText('o.device_id', { kind: 'text', charset: 'binary', collation: 'binary' })).toBe('CAST(o.device_id AS BINARY)');
  });

  it("casts the station key to charging_points.station_id's text type, or leaves it an integer for an integer column", () => {
    expect(asPointStationId('s.id', unicode)).toBe('CAST(s.id AS CHAR CHARACTER SET latin1) COLLATE latin1_swedish_ci');
    expect(asPointStationId('s.id', { ...unicode, pointStationId: { kind: 'integer' } })).toBe('s.id');
  });

  it('describes the layout in one line for operators', () => {
    expect(describeLayout(unicode)).toBe('charging_stations.station_id utf8mb4_unicode_ci, charging_points.station_id latin1_swedish_ci');
  });
});
