import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of the shared test server; empty when no selected project needs Temporal. */
    temporalAddress: string;
    temporalNamespace: string;
  }
}

/**
 * The shared test server's address, for tests run by vitest. Throws (never skips) when the run did not
 * start one, naming what to change, so a Temporal test cannot silently pass without a server.
 */
export function temporalTestAddress(): { address: string; namespace: string } {
  const address = inject('temporalAddress');
  if (!address) {
    throw new Error(
      'No Temporal test server in this run: add this project to PROJECTS_USING_TEMPORAL in ' +
        'tools/temporal/vitest-global-setup.ts (the root vitest.config.ts starts one server for those projects)',
    );
  }
  return { address, namespace: inject('temporalNamespace') };
}
