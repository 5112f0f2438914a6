// Human entry: node --import tsx tools/temporal/server.ts ensure|start|stop|status [--port N] [--ui-port N]
//   [--namespace NS] [--foreground]
import { parseArgs } from 'node:util';
import { ensureTemporalCli } from './cli-install';
import { startDevServer } from './dev-server';
import { ensureLocalServer, localServerDir, runningLocalServer, stopLocalServer } from './local-server';
import { join } from 'node:path';

const USAGE = `usage: node --import tsx tools/temporal/server.ts <command> [options]
  ensure                 build the Temporal CLI if missing and print its path
  start                  start the local dev server in the background (or reuse the running one)
  start --foreground     run it in this terminal until Ctrl-C
  stop                   stop the background server
  status                 print the running server's address, or exit 1
options: --port N  --ui-port N  --namespace NS`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: 'string' },
      'ui-port': { type: 'string' },
      namespace: { type: 'string' },
      foreground: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !command) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const port = values.port ? Number(values.port) : undefined;
  const uiPort = values['ui-port'] ? Number(values['ui-port']) : undefined;
  const namespace = values.namespace;

  switch (command) {
    case 'ensure': {
      const result = await ensureTemporalCli();
      console.log(result.path);
      return 0;
    }
    case 'start': {
      if (values.foreground) {
        const server = await startDevServer({
          port,
          uiPort,
          namespace,
          dbFile: join(localServerDir(), 'temporal.db'),
        });
        console.log(`Temporal ${server.address} (namespace ${server.namespace}); Web UI ${server.uiUrl}; Ctrl-C stops`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.stop();
        return 0;
      }
      const state = await ensureLocalServer({ port, uiPort, namespace });
      console.log(
        `Temporal ${state.address} (namespace ${state.namespace}); Web UI ${state.uiUrl}${state.reused ? ' (already running)' : ''}`,
      );
      return 0;
    }
    case 'stop':
      console.log((await stopLocalServer()) ? 'stopped' : 'no local Temporal server was running');
      return 0;
    case 'status': {
      const state = await runningLocalServer();
      if (!state) {
        console.log('no local Temporal server is running');
        return 1;
      }
      console.log(`Temporal ${state.address} (namespace ${state.namespace}, pid ${state.pid}); Web UI ${state.uiUrl}`);
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
