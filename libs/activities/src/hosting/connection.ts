import { isProcessAlive } from '@sgfd/artifacts';

/** Where Temporal is and which namespace to use. */
export interface TemporalTarget {
  address: string;
  namespace: string;
  /** How the address was chosen, for messages: flag, env, local server, or the default. */
  source: 'flag' | 'env' | 'local-server' | 'default';
}

/** Temporal's conventional front-end address. */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/** The local dev server a checkout records (tools/temporal's `.sgfd/temporal-server.json`), if any. */
export type LocalServerLookup = () => Promise<{ pid: number; address: string; namespace: string } | undefined>;

/**
 * Flags win, then TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE, then the local dev server of this checkout (if its
 * process is alive), then 127.0.0.1:7233 / default.
 */
export async function resolveTemporalTarget(
  flags: { address?: string; namespace?: string },
  localServer?: LocalServerLookup,
  env: NodeJS.ProcessEnv = process.env,
): Promise<TemporalTarget> {
  const namespaceFrom = (local?: string) =>
    flags.namespace ?? (env['TEMPORAL_NAMESPACE'] || undefined) ?? local ?? 'default';
  if (flags.address) return { address: flags.address, namespace: namespaceFrom(), source: 'flag' };
  if (env['TEMPORAL_ADDRESS']) return { address: env['TEMPORAL_ADDRESS'], namespace: namespaceFrom(), source: 'env' };
  const local = await localServer?.().catch(() => undefined);
  if (local && isProcessAlive(local.pid))
    return { address: local.address, namespace: namespaceFrom(local.namespace), source: 'local-server' };
  return { address: DEFAULT_TEMPORAL_ADDRESS, namespace: namespaceFrom(), source: 'default' };
}

/** One line a user can act on when the server does not answer (no stack trace). */
export function unreachableMessage(target: TemporalTarget, cause: unknown): string {
  const raw = ((cause as Error)?.message ?? String(cause)).split('\n')[0]!.trim();
  // The native client wraps the OS error in transport debug text: keep the OS's words.
  const reason = /message: "([^"]+)"/.exec(raw)?.[1] ?? raw;
  const hint =
    target.source === 'default'
      ? 'start a local server with `sgfd dev` (or `npm start`), or set TEMPORAL_ADDRESS'
      : target.source === 'local-server'
        ? 'the local server recorded in .sgfd/temporal-server.json did not answer; restart it with `sgfd dev`'
        : 'check the address and that the server is running';
  return `Cannot reach Temporal at ${target.address} (namespace ${target.namespace}, from ${target.source}): ${reason}; ${hint}`;
}
