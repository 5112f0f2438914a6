// Follows runs by polling their progress query: a live bar on a terminal, a line per change otherwise.
import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { PIPELINE_PROGRESS_QUERY, UserError, type PipelineProgress, type RunSummary } from '@sgfd/contracts';
import { progressLine } from './progress-view';

/** Rewrites its lines in place on a terminal; elsewhere prints a line only when its text changed. */
export class LiveLines {
  private shown = 0;
  private last: string[] = [];
  private lastPrintAt: number[] = [];
  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly minIntervalMs = 5_000,
  ) {}

  get live(): boolean {
    return this.stream.isTTY === true;
  }

  render(lines: string[]): void {
    if (this.live) {
      const width = this.stream.columns || 120;
      let out = this.shown ? `\x1b[${this.shown}F` : '';
      for (const line of lines) out += `\x1b[2K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}\n`;
      this.stream.write(out);
      this.shown = lines.length;
      return;
    }
    const now = Date.now();
    lines.forEach((line, i) => {
      const changedStage = line.split('  ')[0] !== this.last[i]?.split('  ')[0];
      if (line !== this.last[i] && (changedStage || now - (this.lastPrintAt[i] ?? 0) >= this.minIntervalMs)) {
        this.stream.write(`${line}\n`);
        this.last[i] = line;
        this.lastPrintAt[i] = now;
      }
    });
  }
}

/** A run ended without results: its failure message, shown as one line (exit code 1). */
export class RunFailedError extends UserError {
  override readonly name = 'RunFailedError';
}

/** The innermost cause's message: what the activity or workflow said (e.g. the DatasetError naming the file). */
export function failureMessage(error: unknown): string {
  let e = error as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(error);
}

/**
 * The run's progress, or null when no workflow worker answers within `timeoutMs` (none running yet, or the
 * run was just started): a query needs a worker to replay the workflow.
 */
export async function queryProgress(handle: WorkflowHandle, timeoutMs = 5_000): Promise<PipelineProgress | null> {
  let timer: NodeJS.Timeout | undefined;
  const query = handle.query<PipelineProgress>(PIPELINE_PROGRESS_QUERY).catch(() => null);
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)));
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls each run's progress until all have ended; returns their summaries (a failed run throws
 * RunFailedError with the failure's own message). `label` prefixes each run's line.
 */
export async function followRuns(
  client: Client,
  runs: { workflowId: string; label: string }[],
  lines = new LiveLines(),
  pollMs = 1_000,
): Promise<RunSummary[]> {
  const handles = runs.map((r) => client.workflow.getHandle(r.workflowId));
  const results = handles.map((h) =>
    h.result().then(
      (summary: RunSummary) => ({ ok: true as const, summary }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
  );
  const done = runs.map(() => false);
  results.forEach((r, i) => void r.then(() => (done[i] = true)));
  const width = Math.max(...runs.map((r) => r.label.length));
  const text: string[] = runs.map((r) => `${r.label.padEnd(width)}  waiting for a worker…`);
  const tick = async () => {
    await Promise.all(
      handles.map(async (h, i) => {
        const p = await queryProgress(h);
        if (p) text[i] = `${runs[i]!.label.padEnd(width)}  ${progressLine(p)}`;
      }),
    );
    lines.render(text);
  };
  while (!done.every(Boolean)) {
    await tick();
    await Promise.race([Promise.all(results), new Promise((r) => setTimeout(r, pollMs))]);
  }
  await tick();
  const settled = await Promise.all(results);
  return settled.map((r, i) => {
    if (r.ok) return r.summary;
    const reason = r.error instanceof WorkflowFailedError ? failureMessage(r.error) : (r.error as Error).message;
    throw new RunFailedError(`run ${runs[i]!.workflowId} failed: ${reason}`);
  });
}
