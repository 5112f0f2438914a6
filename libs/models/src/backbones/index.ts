// The built-in backbones: one file each, registered here in one line each.
import { registerBackbone } from '../registry';
import { freedomDefinition } from './freedom';
import { vbprDefinition } from './vbpr';

registerBackbone(vbprDefinition);
registerBackbone(freedomDefinition);

export { Vbpr, VbprParamsSchema, vbprDefinition } from './vbpr';
export type { VbprParams } from './vbpr';
export { Freedom, FreedomParamsSchema, freedomDefinition } from './freedom';
export type { FreedomParams } from './freedom';
