import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { runCliCapturing } from './test-support/run-in-process';

/** A command group whose command has a bug: what an internal error looks like to a user. */
const buggy = {
  register(program: Command): void {
    program.command('crash').action(() => {
      const config = undefined as unknown as { training: object };
      void config.training;
    });
  },
};

describe('the one error path of the CLI', () => {
  it('reports an internal error as exit 3 with one line and a hint, the stack only with --debug', async () => {
    const plain = await runCliCapturing([buggy], ['crash']);
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(
      /^error: Cannot read properties of undefined \(reading 'training'\)\nThis is a bug in sgfd \(exit 3\): run again with --debug/,
    );
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await runCliCapturing([buggy], ['crash', '--debug']);
    expect(debug.code).toBe(3);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('--json makes every failure one JSON document on stderr: internal (stack inside only with --debug), usage', async () => {
    const internal = await runCliCapturing([buggy], ['--json', 'crash']);
    expect(internal.code).toBe(3);
    expect(JSON.parse(internal.stderr)).toEqual({
      error: { name: 'TypeError', message: "Cannot read properties of undefined (reading 'training')" },
    });
    const debug = await runCliCapturing([buggy], ['--json', '--debug', 'crash']);
    expect((JSON.parse(debug.stderr) as { error: { stack: string } }).error.stack).toMatch(/\n\s+at /);
    const usage = await runCliCapturing([buggy], ['--json', 'crash', '--colour']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stderr)).toEqual({ error: { name: 'UsageError', message: "unknown option '--colour'" } });
    const unknown = await runCliCapturing([buggy], ['--json', 'nope']);
    expect(unknown.code).toBe(2);
    expect((JSON.parse(unknown.stderr) as { error: { message: string } }).error.message).toMatch(
      /unknown command 'nope'/,
    );
  });
});
