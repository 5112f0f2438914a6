import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { UserError } from '@sgfd/contracts';

/** Exit codes: 0 success, 1 bad input or config (the message says what to fix), 2 bad usage, 3 internal error. */
export const ExitCode = { ok: 0, userError: 1, usage: 2, internal: 3 } as const;

/** A command group: `src/commands/<group>.ts` exports one of these; main.ts lists them. */
export interface CommandModule {
  register(program: Command): void;
}

export function buildProgram(modules: readonly CommandModule[]): Command {
  const program = new Command('sgfd')
    .description('Semantic-Guided Feature Distillation for multimodal recommenders')
    .option('--json', 'machine-readable output (one JSON document on stdout)')
    .option('--debug', 'show stack traces of errors')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  for (const module of modules) module.register(program);
  return program;
}

/** Runs the CLI and returns the exit code; every error ends here and is printed once. */
export async function runCli(modules: readonly CommandModule[], argv: string[]): Promise<number> {
  const program = buildProgram(modules);
  const json = argv.includes('--json');
  const debug = argv.includes('--debug');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed help or its usage message.
      const shown = err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version';
      return shown ? ExitCode.ok : ExitCode.usage;
    }
    const user = err instanceof UserError;
    const error = err instanceof Error ? err : new Error(String(err));
    if (json) {
      const body = { error: { name: error.name, message: error.message, ...(user ? { location: (err as UserError).location } : {}) } };
      process.stderr.write(`${JSON.stringify(body)}\n`);
    } else {
      process.stderr.write(`error: ${error.message}\n`);
    }
    if (debug || !user) process.stderr.write(`${error.stack ?? ''}\n`);
    return user ? ExitCode.userError : ExitCode.internal;
  }
}

export function parseInteger(name: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}.`);
    return n;
  };
}

export function parseFraction(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be a number in [0, 1].`);
    return n;
  };
}
