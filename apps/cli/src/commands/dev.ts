import type { Command } from 'commander';
import { note } from '../output';
import { parseInteger } from '../program';
import { withConnectionOptions, type ConnectionFlags } from '../pipeline/connect';
import { StackStoppedError, startLocalStack, untilSignal } from '../pipeline/local-stack';
import type { WorkerLogEvent } from '../pipeline/workers';

function printWorkerLog(event: WorkerLogEvent): void {
  if (event.msg === 'ready') return;
  const { stage, pid, level, msg, ...rest } = event;
  delete rest['time'];
  delete rest['component'];
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  process.stderr.write(`[worker-${stage} ${pid}] ${level === 'INFO' ? '' : `${level} `}${msg}${extra}\n`);
}

/** `sgfd dev`: the local Temporal server and the four workers, until Ctrl-C. */
export function register(program: Command): void {
  withConnectionOptions(
    program
      .command('dev')
      .description('start the local Temporal server (building it if needed) and the four workers; Ctrl-C stops them')
      .option(
        '--artifacts <dir|uri>',
        'artifact store of the workers (a folder, file:// or s3://bucket/prefix; env SGFD_ARTIFACTS; default <repo>/.sgfd/artifacts)',
      )
      .option(
        '--student-workers <n>',
        'student worker processes (one training each)',
        parseInteger('--student-workers', 1),
        1,
      )
      .option('--teacher-workers <n>', 'teacher worker processes', parseInteger('--teacher-workers', 1), 1),
  ).action(
    async (
      opts: ConnectionFlags & { artifacts?: string; studentWorkers: number; teacherWorkers: number },
      cmd: Command,
    ) => {
      const say = (line: string) => note(cmd, line);
      const signal = untilSignal();
      try {
        const stack = await startLocalStack({
          ...opts,
          extraWorkers: { student: opts.studentWorkers - 1, teacher: opts.teacherWorkers - 1 },
          onLog: printWorkerLog,
          note: say,
          superviseServer: true,
        });
        const workers = stack.workers.workers.map(
          (w) => `${w.stage}${w.stage === 'ingest' ? ' (+ workflows)' : ''} pid ${w.pid}`,
        );
        say(`workers ready: ${workers.join(', ')}`);
        if (stack.uiUrl) say(`Web UI: ${stack.uiUrl}`);
        say(
          `run the pipeline from another terminal: sgfd run --dataset tiny --backbone vbpr --sgfd two-stage --follow`,
        );
        say(`Ctrl-C stops the workers${stack.startedServer ? ' and the server' : ''}.`);
        const workerExit = Promise.race(stack.workers.workers.map((w) => w.exited.then((code) => ({ w, code }))));
        const first = await Promise.race([signal.promise.then((s) => ({ signal: s })), workerExit]);
        if ('w' in first)
          say(`worker-${first.w.stage} (pid ${first.w.pid}) exited (${first.code}); stopping everything`);
        else say(`${first.signal}: stopping the workers${stack.startedServer ? ' and the server' : ''}…`);
        await stack.stop({ server: true });
        say('stopped');
        if ('w' in first)
          throw new StackStoppedError(`worker-${first.w.stage} exited unexpectedly (${first.code}); see its log above`);
      } finally {
        signal.dispose();
      }
    },
  );
}
