import type { LinkError, VehicleLink } from "@sovd/link";

/** One open vehicle stream, before and after its hello. */
export interface OpenStream {
  /** Date.now() of the last message from the vehicle; the idle check reads it. */
  lastMessageAt: number;
  /** Date.now() of when the stream opened; until its Hello arrives the hello check reads it. */
  readonly openedAt: number;
}

/**
 * What the vehicle sessions of one connector have under way, in one place: the open streams
 * (the idle check walks them, shutdown closes them) and every task shutdown waits for
 * before the pool goes (stream handlers, bus messages being handled, queued deliveries).
 * `abandoned` is set by abort: from then on nothing is written (architecture §3 "Shutdown").
 */
export class SessionActivity {
  private readonly streams = new Map<VehicleLink, OpenStream>();
  private readonly awaitingHello = new Map<VehicleLink, OpenStream>();
  private readonly tasks = new Set<Promise<void>>();
  private stopped = false;

  /** True after abandon(): streams close without writing, sightings are not flushed. */
  get abandoned(): boolean {
    return this.stopped;
  }

  /** Shutdown waits for `task` to settle. Its failure is not handled here: callers handle or rethrow it. */
  shutdownAwaits(task: Promise<unknown>): void {
    const settled = task.then(
      () => undefined,
      () => undefined,
    );
    this.tasks.add(settled);
    void settled.finally(() => this.tasks.delete(settled));
  }

  /** An authenticated stream, open until streamEnded; it counts as heard from now. */
  streamOpened(link: VehicleLink): OpenStream {
    const now = Date.now();
    const stream: OpenStream = { lastMessageAt: now, openedAt: now };
    this.streams.set(link, stream);
    this.awaitingHello.set(link, stream);
    return stream;
  }

  /** The stream's Hello was accepted: the hello check no longer looks at it. */
  helloReceived(link: VehicleLink): void {
    this.awaitingHello.delete(link);
  }

  /** The stream's handler is done with it. */
  streamEnded(link: VehicleLink): void {
    this.streams.delete(link);
    this.awaitingHello.delete(link);
  }

  /** The open streams whose Hello has not arrived yet. */
  streamsWithoutHello(): IterableIterator<[VehicleLink, OpenStream]> {
    return this.awaitingHello.entries();
  }

  /** The open streams and when each last heard from its vehicle. */
  openStreams(): IterableIterator<[VehicleLink, OpenStream]> {
    return this.streams.entries();
  }

  /** Closes every open stream with `error`; their handlers then end on their own (awaited by shutdown). */
  closeStreams(error: LinkError): void {
    for (const link of this.streams.keys()) link.close(error);
  }

  /** From now on nothing is written: what a killed process leaves behind. */
  abandon(): void {
    this.stopped = true;
  }

  /** Resolves once every task has settled, including tasks added while it waited. */
  async allSettled(): Promise<void> {
    while (this.tasks.size > 0) await Promise.all([...this.tasks]);
  }
}
