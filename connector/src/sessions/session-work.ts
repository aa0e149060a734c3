import type { LinkError, VehicleLink } from "@sovd/link";

/** One open vehicle stream, before and after its hello. */
export interface OpenStream {
  /** Date.now() of the last message from the vehicle; the idle check reads it. */
  lastMessageAt: number;
}

/**
 * What the vehicle sessions of one connector have under way, in one place: the open streams
 * (the idle check walks them, shutdown closes them) and every task shutdown waits for
 * before the pool goes (stream handlers, bus messages being handled, queued deliveries).
 * `abandoned` is set by abort: from then on nothing is written (architecture §3 "Shutdown").
 */
export class SessionWork {
  private readonly open = new Map<VehicleLink, OpenStream>();
  private readonly tasks = new Set<Promise<void>>();
  private stopped = false;

  /** True after abandon(): streams close without writing, sightings are not flushed. */
  get abandoned(): boolean {
    return this.stopped;
  }

  /** Tracks `task` until it settles. Its failure is not handled here: callers handle or rethrow it. */
  track(task: Promise<unknown>): void {
    const settled = task.then(
      () => undefined,
      () => undefined,
    );
    this.tasks.add(settled);
    void settled.finally(() => this.tasks.delete(settled));
  }

  /** An authenticated stream, open until streamEnded; it counts as heard from now. */
  streamOpened(link: VehicleLink): OpenStream {
    const stream: OpenStream = { lastMessageAt: Date.now() };
    this.open.set(link, stream);
    return stream;
  }

  streamEnded(link: VehicleLink): void {
    this.open.delete(link);
  }

  /** The open streams and when each last heard from its vehicle. */
  streams(): IterableIterator<[VehicleLink, OpenStream]> {
    return this.open.entries();
  }

  /** Closes every open stream with `error`; their handlers then end on their own (tracked). */
  closeStreams(error: LinkError): void {
    for (const link of this.open.keys()) link.close(error);
  }

  /** From now on nothing is written: what a killed process leaves behind. */
  abandon(): void {
    this.stopped = true;
  }

  /** Resolves once nothing is under way, including what started while it waited. */
  async drained(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }
}
