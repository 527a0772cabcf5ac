/**
 * A growable column of doubles: 8 bytes a value in one buffer, instead of a boxed array entry.
 * The aggregator keeps durations and intervals this way so large journals stay compact.
 */
export class NumberList {
  private buffer: Float64Array;
  private size = 0;

  constructor(capacity = 16) {
    this.buffer = new Float64Array(Math.max(1, capacity));
  }

  get length(): number {
    return this.size;
  }

  push(value: number): void {
    if (this.size === this.buffer.length) {
      const grown = new Float64Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.size++] = value;
  }

  /** A view of the values (shares memory until the next `push` grows the buffer). */
  view(): Float64Array {
    return this.buffer.subarray(0, this.size);
  }
}
