// The in-memory orders of the dev broker's messages: ready ones first come, first served;
// delayed ones by when they become available.

/** What the delay heap orders by: when it becomes available, then send order. */
export interface Timed {
  availableAt: number;
  seq: number;
}

/** A FIFO with a moving head: Array.shift() is O(n) on the big arrays a backlog makes. */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;
  get length(): number {
    return this.#items.length - this.#head;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    // Drop the consumed prefix once it is most of the array, so memory follows the backlog.
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
  /** Puts `front` back before what is left, without the items `keep` refuses: for undoing a turn, not a hot path. */
  restore(front: readonly T[], keep: (item: T) => boolean): void {
    this.#items = [...front, ...this.#items.slice(this.#head)].filter(keep);
    this.#head = 0;
  }
}

/** Delayed messages, earliest first: a binary heap on (availableAt, seq). */
export class DelayHeap<T extends Timed> {
  #items: T[] = [];
  get length(): number {
    return this.#items.length;
  }
  peek(): T | undefined {
    return this.#items[0];
  }
  push(item: T): void {
    const items = this.#items;
    let i = items.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }
  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    items[0] = last;
    for (let i = 0; ; ) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < items.length && before(items[left]!, items[least]!)) least = left;
      if (right < items.length && before(items[right]!, items[least]!)) least = right;
      if (least === i) break;
      [items[i], items[least]] = [items[least]!, items[i]!];
      i = least;
    }
    return top;
  }
  /** Drops the items `keep` refuses: for undoing a turn, not a hot path. */
  filter(keep: (item: T) => boolean): void {
    const kept = this.#items.filter(keep);
    this.#items = [];
    for (const item of kept) this.push(item);
  }
}

function before(a: Timed, b: Timed): boolean {
  return a.availableAt < b.availableAt || (a.availableAt === b.availableAt && a.seq < b.seq);
}
