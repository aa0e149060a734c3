/**
 * An unbounded-by-default push queue read with `for await`. The bridge between
 * callback-shaped sources (sockets, grpc-js streams, the in-process bus) and the
 * `async function*` handlers the services are written as.
 */
export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<{ resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void }> = [];
  private ended = false;
  private failure: unknown = undefined;

  /**
   * @param onReturn called once when the reader stops (break, return, throw) or the queue ends,
   *   so the producer can release what it holds.
   */
  constructor(private readonly onReturn?: () => void) {}

  get size(): number {
    return this.items.length;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Adds an item; false (and dropped) once the queue has ended. */
  push(item: T): boolean {
    if (this.ended) return false;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve({ value: item, done: false });
    else this.items.push(item);
    return true;
  }

  /** Ends the queue: readers drain what is buffered, then stop (or throw `error`). */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    for (const w of this.waiters.splice(0)) {
      if (error !== undefined) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
    this.onReturn?.();
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) return Promise.resolve({ value: this.items.shift() as T, done: false });
    if (this.ended) {
      if (this.failure !== undefined) {
        const e = this.failure;
        this.failure = undefined;
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.items.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }
}
