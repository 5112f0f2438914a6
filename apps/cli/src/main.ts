// Entry of the `sgfd` command (bin/sgfd.mjs) and of `npm start` (tools/bootstrap.mjs).
// A command group is one module in src/commands exporting `register(program)`; list it here.
import * as data from './commands/data';
import * as start from './commands/start';
import * as train from './commands/train';
import * as dev from './commands/dev';
import * as run from './commands/run';
import * as status from './commands/status';
import * as results from './commands/results';
import * as cancel from './commands/cancel';
import * as suite from './commands/suite';
import * as schedule from './commands/schedule';
import * as recommend from './commands/recommend';
import * as serve from './commands/serve';
import * as model from './commands/model';
import * as server from './commands/server';
import { reportError } from './error-report';
import { runCli, type CommandModule } from './program';

const modules: CommandModule[] = [
  data,
  start,
  train,
  dev,
  run,
  status,
  results,
  cancel,
  suite,
  schedule,
  recommend,
  serve,
  model,
  server,
];
const argv = process.argv.slice(2);

// An error that escapes every await (a callback's throw) is still reported the one way, as exit 3.
const crash = (err: unknown): void => {
  process.exitCode = reportError({ json: argv.includes('--json'), debug: argv.includes('--debug') }, err);
  process.exit();
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

process.exitCode = await runCli(modules, argv);
