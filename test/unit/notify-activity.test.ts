import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createNotifyActivity } from '../../src/activities/notify';
import type { Log } from '../../src/log';
import type { NotificationEvent } from '../../src/shared';

const TOKEN = 'xoxb-unit-s3cr3t';
const event: NotificationEvent = { event: 'expired', workflowId: 'nightly-1', runId: 'run-1' };
const ui = { uiUrl: 'http://127.0.0.1:8233', namespace: 'default' };

function capture(): { log: Log; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: { info: (l) => lines.push(l), debug: (l) => lines.push(l), warn: (l) => lines.push(l), error: (l) => lines.push(l) } };
}

/** A port on 127.0.0.1 that nothing listens on any more. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('sendNotification', () => {
  it('does nothing, and says so, without NOTIFY_WEBHOOK_URL', async () => {
    const { log, lines } = capture();
    await expect(new MockActivityEnvironment().run(createNotifyActivity({ ui, log }), event)).resolves.toEqual({ delivery: 'off' });
    expect(lines).toEqual([]);
  });

  it('fails a retryable attempt on an unreachable webhook, naming the cause but never the URL or its token', async () => {
    const { log, lines } = capture();
    const webhookUrl = `http://127.0.0.1:${await closedPort()}/hooks/${TOKEN}`;
    let failure: unknown;
    try {
      await new MockActivityEnvironment().run(createNotifyActivity({ webhookUrl, ui, log }), event);
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).message).toBe('the webhook could not be reached (ECONNREFUSED)');
    expect((failure as ApplicationFailure).nonRetryable).toBe(false);
    expect(lines).toEqual(['Notification expired of nightly-1: attempt 1 failed: the webhook could not be reached (ECONNREFUSED)']);
    expect(JSON.stringify({ lines, failure: String(failure), stack: (failure as Error).stack })).not.toContain(TOKEN);
  });

  it.each([
    [404, true],
    [429, false],
    [503, false],
  ])('fails an attempt answered HTTP %i; not retried: %s', async (status, nonRetryable) => {
    const server = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(status).end());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/${TOKEN}`;
    try {
      const failure = await new MockActivityEnvironment().run(createNotifyActivity({ webhookUrl, ui, log: capture().log }), event).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ message: `the webhook answered HTTP ${status}`, nonRetryable });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
