// Just enough of the WebAssembly binary format (core 1.0 + fixed-width SIMD) to write small numeric
// kernels by hand: LEB128 numbers, sections, and named opcodes. No toolchain, no runtime download.

export const I32 = 0x7f;
export const V128 = 0x7b;

export function u32(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function s32(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

export function vec(items: number[][]): number[] {
  return [...u32(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...u32(body.length), ...body];
}

function name(text: string): number[] {
  return [...u32(text.length), ...Array.from(text, (c) => c.charCodeAt(0))];
}

/** Instructions, as byte arrays to splice into a function body. */
export const op = {
  get: (local: number) => [0x20, ...u32(local)],
  set: (local: number) => [0x21, ...u32(local)],
  i32: (value: number) => [0x41, ...s32(value)],
  add: [0x6a],
  mul: [0x6c],
  shl: [0x74],
  geS: [0x4e],
  /** block / loop with no result; `end` closes either. */
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (depth: number) => [0x0c, ...u32(depth)],
  brIf: (depth: number) => [0x0d, ...u32(depth)],
  /** Loads and stores at (address on the stack) + `offset` bytes. */
  i32Load: (offset = 0) => [0x28, 2, ...u32(offset)],
  f32Load: (offset = 0) => [0x2a, 2, ...u32(offset)],
  f32Store: (offset = 0) => [0x38, 2, ...u32(offset)],
  f32Add: [0x92],
  v128Load: (offset = 0) => [0xfd, ...u32(0x00), 4, ...u32(offset)],
  v128Store: (offset = 0) => [0xfd, ...u32(0x0b), 4, ...u32(offset)],
  v128Zero: [0xfd, ...u32(0x0c), ...new Array<number>(16).fill(0)],
  f32x4Splat: [0xfd, ...u32(0x13)],
  f32x4Lane: (lane: number) => [0xfd, ...u32(0x1f), lane],
  f32x4Add: [0xfd, ...u32(0xe4)],
  f32x4Mul: [0xfd, ...u32(0xe6)],
};

export interface FunctionDef {
  name: string;
  /** All parameters are i32 (counts and byte addresses); no results. */
  params: number;
  /** Extra locals by type, in order after the parameters. */
  locals: Array<[count: number, type: number]>;
  body: number[];
}

/** A module exporting its memory (as `memory`, one page to start) and the given functions. */
export function assemble(functions: FunctionDef[]): Uint8Array {
  const types = functions.map((f) => [0x60, ...vec(Array.from({ length: f.params }, () => [I32])), 0]);
  const code = functions.map((f) => {
    const body = [...vec(f.locals.map(([count, type]) => [...u32(count), type])), ...f.body, ...op.end];
    return [...u32(body.length), ...body];
  });
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(3, vec(functions.map((_, i) => u32(i)))),
    ...section(5, vec([[0x00, ...u32(1)]])),
    ...section(
      7,
      vec([...functions.map((f, i) => [...name(f.name), 0x00, ...u32(i)]), [...name('memory'), 0x02, 0x00]]),
    ),
    ...section(10, vec(code)),
  ]);
}
