// Entry of the `sgfd` command (bin/sgfd.mjs) and of `npm start` (tools/bootstrap.mjs).
// A command group is one module in src/commands exporting `register(program)`; list it here.
import * as data from './commands/data';
import * as start from './commands/start';
import * as train from './commands/train';
import { runCli, type CommandModule } from './program';

const modules: CommandModule[] = [data, start, train];

process.exitCode = await runCli(modules, process.argv.slice(2));
