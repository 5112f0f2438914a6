import type { LogLevel, LogMetadata } from '@temporalio/common';

export type LogLine = (level: LogLevel, message: string, meta?: LogMetadata) => void;

/**
 * One JSON object a line when stderr is not a terminal (log collectors), a short human line when it is;
 * SGFD_LOG_FORMAT=json|text overrides (a supervisor showing worker logs to a person asks for text).
 * The SDK's own logs and the worker's go through the same function.
 */
export function createLogLine(
  component: string,
  stream: NodeJS.WriteStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): LogLine {
  const format = env['SGFD_LOG_FORMAT'];
  const json = format === 'json' || (format !== 'text' && !stream.isTTY);
  return (level, message, meta) => {
    if (json) {
      stream.write(
        `${JSON.stringify({ time: new Date().toISOString(), level, component, msg: message, ...plain(meta) })}\n`,
      );
    } else {
      const extra = meta && Object.keys(meta).length ? ` ${JSON.stringify(plain(meta))}` : '';
      stream.write(`[${component}] ${level === 'INFO' ? '' : `${level} `}${message}${extra}\n`);
    }
  };
}

/** Errors and bigints do not survive JSON.stringify as is. */
function plain(meta: LogMetadata | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta ?? {})) {
    if (value instanceof Error) out[key] = { name: value.name, message: value.message };
    else if (typeof value === 'bigint') out[key] = value.toString();
    else out[key] = value;
  }
  return out;
}
