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
import { runCli, type CommandModule } from './program';

const modules: CommandModule[] = [data, start, train, dev, run, status, results, cancel, suite, schedule];

process.exitCode = await runCli(modules, process.argv.slice(2));
