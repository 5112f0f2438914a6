/**
 * Maps a batch's item ids to positions in the list of its distinct items, so per-item work (feature
 * projection) runs once per distinct item. Reuses one stamp array of nItems entries.
 */
export class DistinctItems {
  private readonly slot: Int32Array;
  private stamp: Int32Array;
  private generation = 0;

  constructor(nItems: number) {
    this.slot = new Int32Array(nItems);
    this.stamp = new Int32Array(nItems);
  }

  /** Distinct ids in order of first appearance, and each input's position among them. */
  index(...lists: Int32Array[]): { distinct: Int32Array; positions: Int32Array[] } {
    this.generation++;
    if (this.generation === 0x7fffffff) {
      this.stamp = new Int32Array(this.stamp.length);
      this.generation = 1;
    }
    const total = lists.reduce((n, l) => n + l.length, 0);
    const distinct = new Int32Array(total);
    let count = 0;
    const positions = lists.map((list) => {
      const out = new Int32Array(list.length);
      for (let i = 0; i < list.length; i++) {
        const item = list[i];
        if (this.stamp[item] !== this.generation) {
          this.stamp[item] = this.generation;
          this.slot[item] = count;
          distinct[count++] = item;
        }
        out[i] = this.slot[item];
      }
      return out;
    });
    return { distinct: distinct.slice(0, count), positions };
  }
}
