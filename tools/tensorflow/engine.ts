// `node --import tsx tools/tensorflow/engine.ts ensure [--gpu] | status`: builds or shows the native engine.
import { cachedEngineDir, readEngineInfo, type EngineVariant } from '@sgfd/tensor/native';
import { ensureTensorflowEngine } from './install';

async function main(): Promise<number> {
  const [command, ...flags] = process.argv.slice(2);
  const variant: EngineVariant = flags.includes('--gpu') ? 'gpu' : 'cpu';
  if (command === 'ensure') {
    const result = await ensureTensorflowEngine({ variant });
    console.log(`${result.source === 'built' ? 'built' : 'ready'}: ${result.dir}`);
    return 0;
  }
  if (command === 'status') {
    for (const v of ['cpu', 'gpu'] as const) {
      const info = readEngineInfo(cachedEngineDir(v));
      console.log(
        info
          ? `${v}: TensorFlow ${info.tensorflowVersion} from ${info.source.package}, built ${info.builtAt} in ${info.buildSeconds.toFixed(0)} s (${cachedEngineDir(v)})`
          : `${v}: not built`,
      );
    }
    if (process.env['SGFD_TENSORFLOW_DIR'])
      console.log(`SGFD_TENSORFLOW_DIR=${process.env['SGFD_TENSORFLOW_DIR']} (used instead of the cache)`);
    return 0;
  }
  console.error('usage: node --import tsx tools/tensorflow/engine.ts ensure [--gpu] | status');
  return 2;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`[sgfd] ${(error as Error).message}`);
  process.exitCode = 1;
}
