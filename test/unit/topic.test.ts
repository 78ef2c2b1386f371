import { parseTopic } from '../../src/domain/message';
import { ALL_ACCOUNTS, deviceIdOfTopic, deviceTopic, topicFilterFor } from '../../src/domain/topic';

describe('the topic shape', () => {
  it("builds a device's topic as the original tool's stations publish it", () => {
    expect(deviceTopic('acc123', '6r43-lnud-2u11-oa8z')).toBe('acc123/sweet-home/6r43-lnud-2u11-oa8z/status-control/connectors-count');
  });

  it('builds the filter for every account by default, and for one account when asked', () => {
    expect(topicFilterFor()).toBe('+/sweet-home/+/status-control/connectors-count');
    expect(topicFilterFor(ALL_ACCOUNTS)).toBe(topicFilterFor());
    expect(topicFilterFor('acc123')).toBe('acc123/sweet-home/+/status-control/connectors-count');
  });

  it('reads back the device id of every topic it builds', () => {
    for (const deviceId of ['6r43-lnud-2u11-oa8z', 'X', 'dev_1.2:3~!']) {
      expect(deviceIdOfTopic(deviceTopic('acc', deviceId))).toEqual({ ok: true, deviceId });
      expect(parseTopic(deviceTopic('acc', deviceId))).toEqual({ ok: true, deviceId });
    }
  });

  it('names the shape when a topic does not have it', () => {
    expect(deviceIdOfTopic('acc/sweet-home/dev/status-control')).toEqual({ ok: false, reason: 'topic is not <account>/sweet-home/<deviceId>/status-control/connectors-count' });
  });
});
