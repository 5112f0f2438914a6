// Preloaded (`node --import`) into a measured child: at exit, writes the process's peak RSS in bytes to the
// file named by SGFD_BENCH_RSS_FILE, so a benchmark can measure an unmodified command such as `sgfd`.
import { writeFileSync } from 'node:fs';

const target = process.env.SGFD_BENCH_RSS_FILE;
if (target) process.on('exit', () => writeFileSync(target, String(process.resourceUsage().maxRSS * 1024)));
