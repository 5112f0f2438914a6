// The service under load in `npm run bench -- serve`, in its own process so the load generator does not
// share its event loop: `node --import tsx tools/bench/serve-server.ts <bundle dir>` prints its URL.
import { buildServer, fixedModelSource, readScoringBundle, servedModel } from '@sgfd/serving';

const dir = process.argv[2]!;
const app = buildServer({ models: fixedModelSource(servedModel(await readScoringBundle(dir), dir)) });
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${url}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
