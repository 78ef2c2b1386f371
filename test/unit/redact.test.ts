import { redactUserInfo } from '../../src/domain/redact';

describe('redactUserInfo', () => {
  it.each([
    ['mqtts://operator:s3cret@broker.example.com:8883', 'mqtts://***@broker.example.com:8883'],
    ['mqtts//operator:s3cret@broker.example.com:8883', 'mqtts//***@broker.example.com:8883'],
    ['operator:s3cret@broker.example.com', '***@broker.example.com'],
    ['mqtt://127.0.0.1:1883', 'mqtt://127.0.0.1:1883'],
  ])('%s → %s', (url, shown) => {
    expect(redactUserInfo(url)).toBe(shown);
  });
});
