/**
 * A webhook receiver on 127.0.0.1 for the notification tests: records every POST (path and JSON body) and answers
 * with the statuses it is told, in order (200 once they are used up).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from './wait';

export interface ReceivedPost {
  path: string;
  contentType?: string;
  body: Record<string, unknown>;
  /** The status this request was answered with. */
  answered: number;
}

export class WebhookReceiver {
  readonly posts: ReceivedPost[] = [];
  private statuses: number[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server);
    server.on('request', (req, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
      req.on('end', () => {
        const answered = receiver.statuses.shift() ?? 200;
        let body: Record<string, unknown>;
        try {
          body = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          body = { unparsable: raw };
        }
        receiver.posts.push({ path: req.url ?? '', contentType: req.headers['content-type'], body, answered });
        res.writeHead(answered, { 'content-type': 'text/plain' }).end(answered === 200 ? 'ok' : 'receiver failure');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The next requests are answered with these statuses, in order. */
  answerNext(...statuses: number[]): void {
    this.statuses.push(...statuses);
  }

  /** Forgets the statuses not used yet: the next requests are answered 200. */
  reset(): void {
    this.statuses = [];
  }

  /** The posts about one workflow, in arrival order. */
  postsFor(workflowId: string): ReceivedPost[] {
    return this.posts.filter((p) => p.body.workflowId === workflowId);
  }

  /** Waits until `count` posts about `workflowId` were answered 200. */
  async delivered(workflowId: string, count: number, timeoutMs = 30_000): Promise<ReceivedPost[]> {
    const answered = (): ReceivedPost[] => this.postsFor(workflowId).filter((p) => p.answered === 200);
    return waitFor(
      `${count} notifications of ${workflowId} delivered`,
      () => {
        const ok = answered();
        return ok.length >= count && ok;
      },
      { timeoutMs, intervalMs: 100, lastSeen: () => `${answered().length} delivered: ${JSON.stringify(this.postsFor(workflowId).map((p) => [p.body.event, p.answered]))}` },
    );
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
