import nx from '@nx/eslint-plugin';

// Who may import whom. Workflows stay deterministic by importing only contracts.
const allowed = {
  'type:contracts': ['type:contracts'],
  'type:workflow': ['type:contracts'],
  'type:util': ['type:util', 'type:contracts'],
  'type:data': ['type:data', 'type:util', 'type:contracts'],
  'type:model': ['type:model', 'type:data', 'type:util', 'type:contracts'],
  'type:activity': ['type:activity', 'type:model', 'type:data', 'type:util', 'type:contracts'],
  // tools: the Temporal server installer and the benchmarks, which measure every lib.
  'type:tool': ['type:tool', 'type:activity', 'type:model', 'type:data', 'type:util', 'type:contracts'],
  'type:app': [
    'type:app',
    'type:tool',
    'type:activity',
    'type:model',
    'type:data',
    'type:util',
    'type:contracts',
    'type:workflow',
  ],
};

function boundaries({ forTests }) {
  return [
    'error',
    {
      enforceBuildableLibDependency: true,
      allow: [],
      // The CLI loads heavy libs lazily so it starts fast; tests and their fixtures may import them statically.
      ...(forTests ? { checkDynamicDependenciesExceptions: ['@sgfd/*'] } : {}),
      depConstraints: Object.entries(allowed).map(([sourceTag, tags]) => ({
        sourceTag,
        // Tests may use the shared test server and fixtures from tools, and the workers that host the code.
        onlyDependOnLibsWithTags: forTests ? [...tags, 'type:tool', 'type:activity', 'type:app'] : tags,
      })),
    },
  ];
}

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/node_modules', '**/out-tsc', '**/dist', '.sgfd/**', 'reports/**'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries({ forTests: false }),
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['**/*.test.ts', '**/test-support/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': boundaries({ forTests: true }) },
  },
];
