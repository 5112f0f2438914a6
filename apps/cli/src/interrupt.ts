import type { Command } from 'commander';
import { reportInterrupted } from './error-report';
import { globalsOf } from './output';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs `work` so that SIGINT or SIGTERM first removes the temp directories it was writing (then the
 * signal ends the process as usual: shell status 130 / 143). The next import would also sweep them, but
 * a user who presses Ctrl-C should not find half a snapshot in --out.
 */
export async function cleaningUpOnSignals<T>(command: Command, work: () => Promise<T>): Promise<T> {
  const { removeActiveTempDirsSync } = await import('@sgfd/data');
  const onSignal = (signal: NodeJS.Signals): void => {
    stop();
    reportInterrupted({ ...globalsOf(command) }, signal, removeActiveTempDirsSync());
    process.kill(process.pid, signal);
  };
  const stop = (): void => {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    return await work();
  } finally {
    stop();
  }
}
