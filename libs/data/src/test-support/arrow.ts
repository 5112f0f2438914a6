import { Field, Float32, Float64, List, vectorFromArray, type Vector } from 'apache-arrow';

/** A list<float32> (or list<float64>) Arrow column from plain rows. */
export function listColumn(rows: (number[] | null)[], float64 = false): Vector<List<Float32 | Float64>> {
  const type = new List<Float32 | Float64>(new Field('element', float64 ? new Float64() : new Float32(), true));
  return vectorFromArray(rows, type);
}
