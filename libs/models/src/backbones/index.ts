// The built-in backbones: one file each, registered here in one line each.
import { registerBackbone } from '../registry';
import { bm3Definition } from './bm3';
import { freedomDefinition } from './freedom';
import { grcnDefinition } from './grcn';
import { latticeDefinition } from './lattice';
import { mamlDefinition } from './maml';
import { vbprDefinition } from './vbpr';

registerBackbone(vbprDefinition);
registerBackbone(bm3Definition);
registerBackbone(freedomDefinition);
registerBackbone(grcnDefinition);
registerBackbone(latticeDefinition);
registerBackbone(mamlDefinition);

export { Vbpr, VbprParamsSchema, vbprDefinition } from './vbpr';
export type { VbprParams } from './vbpr';
export { Bm3, Bm3ParamsSchema, bm3Definition, normalizedAdjacency } from './bm3';
export type { Bm3Params } from './bm3';
export { Freedom, FreedomParamsSchema, freedomDefinition } from './freedom';
export type { FreedomParams } from './freedom';
export { Grcn, GrcnParamsSchema, grcnDefinition } from './grcn';
export type { GrcnParams } from './grcn';
export { Lattice, LatticeParamsSchema, latticeDefinition } from './lattice';
export type { LatticeParams } from './lattice';
export { Maml, MamlParamsSchema, mamlDefinition } from './maml';
export type { MamlParams } from './maml';
