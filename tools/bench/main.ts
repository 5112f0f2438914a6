// `npm run bench -- <name> [args]`: runs one benchmark. Each prints its figures as ratios against a
// baseline measured in the same run. Add a benchmark with one line in BENCHES.
export const BENCHES: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  kernels: () => import('./kernels'),
  data: () => import('./data'),
  import: () => import('./import'),
  train: () => import('./train'),
  backbones: () => import('./backbones'),
  extract: () => import('./extract'),
  serve: () => import('./serve'),
  store: () => import('./store'),
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const load = name ? BENCHES[name] : undefined;
  if (!load) {
    console.error(`usage: npm run bench -- <${Object.keys(BENCHES).join(' | ')}> [args]`);
    process.exit(2);
  }
  const { prepareTensorflowEngine } = await import('../tensorflow/prepare');
  await prepareTensorflowEngine();
  await (await load()).run(args);
}

await main();
