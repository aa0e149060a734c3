/**
 * Group commit: items pushed while a batch is being written wait and go together in the
 * next one, so under load one round trip (and one WAL flush) serves many callers, while a
 * lone caller never waits for a timer. Items with the same key never share a batch (the
 * second waits for the next), for writes whose validity depends on the one before.
 */
export interface Batcher<I, O> {
  /** Resolves with this item's result once its batch is written; rejects if the batch failed. */
  push(item: I): Promise<O>;
  /** Resolves when nothing is queued or being written. */
  idle(): Promise<void>;
}

export interface BatcherOptions<I, O> {
  /** Writes a batch; returns one result per item, in order. */
  run(items: I[]): Promise<O[]>;
  /** Items with equal keys go into different batches. */
  key?: (item: I) => string;
  /** Largest batch (default 500). */
  maxItems?: number;
  /** Batches written at once (default 2): enough to overlap one batch's round trip with the next. */
  concurrency?: number;
}

interface Waiting<I, O> {
  readonly item: I;
  resolve(result: O): void;
  reject(err: unknown): void;
}

export function createBatcher<I, O>(opts: BatcherOptions<I, O>): Batcher<I, O> {
  const maxItems = opts.maxItems ?? 500;
  const concurrency = opts.concurrency ?? 2;
  let queue: Waiting<I, O>[] = [];
  let running = 0;
  let scheduled = false;
  const idleWaiters: (() => void)[] = [];

  const take = (): Waiting<I, O>[] => {
    if (!opts.key) {
      const batch = queue.slice(0, maxItems);
      queue = queue.slice(batch.length);
      return batch;
    }
    const batch: Waiting<I, O>[] = [];
    const rest: Waiting<I, O>[] = [];
    const keys = new Set<string>();
    for (const w of queue) {
      const k = opts.key(w.item);
      if (batch.length < maxItems && !keys.has(k)) {
        keys.add(k);
        batch.push(w);
      } else rest.push(w);
    }
    queue = rest;
    return batch;
  };

  const write = async (batch: Waiting<I, O>[]): Promise<void> => {
    try {
      const results = await opts.run(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(results[i]!));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  };

  const pump = (): void => {
    scheduled = false;
    while (running < concurrency && queue.length > 0) {
      const batch = take();
      running++;
      void write(batch).finally(() => {
        running--;
        if (queue.length > 0) pump();
        else if (running === 0) for (const wake of idleWaiters.splice(0)) wake();
      });
    }
  };

  return {
    push(item) {
      return new Promise<O>((resolve, reject) => {
        queue.push({ item, resolve, reject });
        // Whatever is pushed before the next microtask checkpoint goes out together.
        if (!scheduled && running < concurrency) {
          scheduled = true;
          queueMicrotask(pump);
        }
      });
    },
    idle() {
      if (running === 0 && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
  };
}
