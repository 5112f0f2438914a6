import { execFile } from 'node:child_process';

export interface WorkerAppResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a worker app's `main.ts` as a process, as a deployment does (text logs), and waits for it to exit. */
export function runWorkerApp(main: string, ...args: string[]): Promise<WorkerAppResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', main, ...args],
      { env: { ...process.env, SGFD_LOG_FORMAT: 'text' } },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}
