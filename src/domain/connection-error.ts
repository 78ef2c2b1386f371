/**
 * A connection that could not be made because of a setting, or of a server that is not there: one line that names the
 * variable to check (`Temporal 127.0.0.1:7299 (TEMPORAL_ADDRESS): connection refused: is the server running?`), as
 * the configuration errors do. The CLI prints it as it is and exits with the usage status (2), the worker at start too.
 */
export class ConnectionSettingError extends Error {
  override readonly name = 'ConnectionSettingError';

  constructor(
    /** The variable (or variables, `OCPP_MYSQL_USER/OCPP_MYSQL_PASSWORD`) the operator should look at first. */
    readonly setting: string,
    message: string,
  ) {
    super(message);
  }
}

/** A socket-level failure in an operator's words: what happened, the OS code, and what to check. */
export interface SocketProblem {
  words: string;
  code: string;
  hint: string;
}

const SOCKET_PROBLEMS: Record<string, Omit<SocketProblem, 'code'>> = {
  ECONNREFUSED: { words: 'connection refused', hint: 'is the server running?' },
  ENOTFOUND: { words: 'host name not found', hint: 'check the host name' },
  EAI_AGAIN: { words: 'host name could not be resolved', hint: 'check the host name and the DNS' },
  ETIMEDOUT: { words: 'no answer', hint: 'is the host reachable (address, firewall)?' },
  EHOSTUNREACH: { words: 'host unreachable', hint: 'check the address and the network' },
  ENETUNREACH: { words: 'network unreachable', hint: 'check the address and the network' },
  ECONNRESET: { words: 'connection reset', hint: 'is it the right port?' },
};

/** The problem of a socket error code (`ECONNREFUSED`, …); undefined for a code that is not about reaching a host. */
export function socketProblem(code: unknown): SocketProblem | undefined {
  if (typeof code !== 'string') return undefined;
  const known = SOCKET_PROBLEMS[code];
  return known === undefined ? undefined : { ...known, code };
}

/** Which setting a socket error points at: the host for a name that does not resolve, host and port otherwise. */
export function socketSetting(code: unknown, hostVariable: string, portVariable?: string): string {
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || portVariable === undefined) return hostVariable;
  return `${hostVariable}/${portVariable}`;
}
