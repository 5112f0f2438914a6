import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { ExitCode, reportError, reportUsage, type ReportMode } from './error-report';

export { ExitCode } from './error-report';

/** A command group: `src/commands/<group>.ts` exports one of these; main.ts lists them. */
export interface CommandModule {
  register(program: Command): void;
}

/**
 * The program with every command group. Commander's own error text goes through `onUsageError` (so
 * --json can turn it into JSON), never straight to the terminal.
 */
export function buildProgram(
  modules: readonly CommandModule[],
  onUsageError: (message: string) => void = (m) => process.stderr.write(m),
): Command {
  const program = new Command('sgfd')
    .description('Semantic-Guided Feature Distillation for multimodal recommenders')
    .option('--json', 'machine-readable output (one JSON document on stdout)')
    .option('--debug', 'show stack traces of errors')
    .configureOutput({ outputError: (message) => onUsageError(message) })
    .exitOverride();
  for (const module of modules) module.register(program);
  return program;
}

/** Runs the CLI and returns the exit code; every error ends here and is printed once (error-report.ts). */
export async function runCli(modules: readonly CommandModule[], argv: string[]): Promise<number> {
  const mode: ReportMode = { json: argv.includes('--json'), debug: argv.includes('--debug') };
  let usageMessage: string | null = null;
  const program = buildProgram(modules, (message) => (usageMessage ??= message));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      const shown =
        err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version';
      if (shown) return ExitCode.ok;
      return reportUsage(mode, usageMessage ?? err.message);
    }
    return reportError(mode, err);
  }
}

/** Largest seed: the generators draw from 32 bits, so a larger one would silently alias a smaller one. */
export const MAX_SEED = 2 ** 32 - 1;

export function parseInteger(name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(
        max === Number.MAX_SAFE_INTEGER
          ? `${name} must be an integer >= ${min}.`
          : `${name} must be an integer in [${min}, ${max}].`,
      );
    }
    return n;
  };
}

export function parseFraction(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !(n >= 0 && n <= 1))
      throw new InvalidArgumentError(`${name} must be a number in [0, 1].`);
    return n;
  };
}
