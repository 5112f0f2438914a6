import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { UserError } from '@sgfd/contracts';
import { resolveTemporalTarget, unreachableMessage, type TemporalTarget } from '@sgfd/activities/connection';
import { readLocalServerState } from '@sgfd/tools';

/** The server did not answer: the CLI prints the one-line message and exits 1, no stack trace. */
export class ConnectionError extends UserError {
  override readonly name = 'ConnectionError';
}

export interface ConnectionFlags {
  address?: string;
  namespace?: string;
}

/** Adds --address / --namespace (env TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE) to a command. */
export function withConnectionOptions(command: Command): Command {
  return command
    .option(
      '--address <host:port>',
      'Temporal front end (env TEMPORAL_ADDRESS; default: the local dev server, else 127.0.0.1:7233)',
    )
    .option('--namespace <ns>', 'Temporal namespace (env TEMPORAL_NAMESPACE; default: default)');
}

export interface Connected {
  client: Client;
  connection: Connection;
  target: TemporalTarget;
  close(): Promise<void>;
}

export async function connect(flags: ConnectionFlags): Promise<Connected> {
  const target = await resolveTemporalTarget(flags, readLocalServerState);
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: target.address, connectTimeout: 5_000 });
  } catch (e) {
    throw new ConnectionError(unreachableMessage(target, e));
  }
  try {
    await connection.workflowService.describeNamespace({ namespace: target.namespace });
  } catch (e) {
    await connection.close();
    const notFound = (e as { code?: number }).code === 5;
    throw new ConnectionError(
      notFound
        ? `Temporal at ${target.address} has no namespace '${target.namespace}': pass --namespace or set TEMPORAL_NAMESPACE`
        : unreachableMessage(target, e),
    );
  }
  return {
    client: new Client({ connection, namespace: target.namespace }),
    connection,
    target,
    close: () => connection.close(),
  };
}

/** Runs `fn` with a connected client and always closes the connection. */
export async function withClient<T>(flags: ConnectionFlags, fn: (connected: Connected) => Promise<T>): Promise<T> {
  const connected = await connect(flags);
  try {
    return await fn(connected);
  } finally {
    await connected.close();
  }
}
