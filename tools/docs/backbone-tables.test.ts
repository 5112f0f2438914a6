import { describe, expect, it } from 'vitest';
import { registeredBackbones } from '@sgfd/models';
import { parameterTable, renderBackbonesDoc } from './backbone-tables';

describe('docs/backbones.md', () => {
  it('holds the tables the registry generates (run `npx tsx tools/docs/backbone-tables.ts` to update)', async () => {
    const { current, generated } = await renderBackbonesDoc();
    expect(current).toBe(generated);
  });

  it('lists every registered backbone with the defaults its schema fills', () => {
    const table = parameterTable();
    for (const name of registeredBackbones()) expect(table).toContain(`| \`${name}\` |`);
    expect(table).toMatch(/\| `vbpr` \| `embeddingSize` \| 64 \|/);
    expect(table).toMatch(/\| \| `regWeight` \| 1e-3 \| 2, 1, 1e-1/);
  });
});
