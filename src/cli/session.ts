/**
 * What a command works with: the environment and a Temporal connection that is opened on first use (commands such as
 * `migrate` never open one) and closed by the entry point when the command ends, whatever the outcome.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { loadTemporalConfig, type Env, type TemporalConfig } from '../config';
import { connectClient } from '../temporal/connection';

export class Session {
  private config: TemporalConfig | undefined;
  private connecting: Promise<Client> | undefined;

  constructor(readonly env: Env) {}

  /** TEMPORAL_* settings, validated on first use. */
  get temporal(): TemporalConfig {
    this.config ??= loadTemporalConfig(this.env);
    return this.config;
  }

  /** The client, connected once however many times a command asks. */
  client(): Promise<Client> {
    this.connecting ??= connectClient(this.temporal);
    return this.connecting;
  }

  async handle(workflowId: string): Promise<WorkflowHandle> {
    return (await this.client()).workflow.getHandle(workflowId);
  }

  /** Closes the connection if one was opened; never throws (a command's own error is the one to report). */
  async close(): Promise<void> {
    const connecting = this.connecting;
    this.connecting = undefined;
    if (!connecting) return;
    try {
      await (await connecting).connection.close();
    } catch {
      // Not connected, or already closed.
    }
  }
}


/**
 * A command's exit status: its action returns one (or nothing for success); the entry point reads it once the
 * command ends. Commands never set process.exitCode or exit the process themselves.
 */
export class ExitStatus {
  code = 0;

  /** Wraps an action so that its returned status is kept. */
  of<A extends unknown[]>(action: (...args: A) => Promise<number | void>): (...args: A) => Promise<void> {
    return async (...args: A) => {
      const code = await action(...args);
      if (typeof code === 'number') this.code = code;
    };
  }
}

/** What every command module receives. */
export interface CommandContext {
  session: Session;
  env: Env;
  exit: ExitStatus;
}
