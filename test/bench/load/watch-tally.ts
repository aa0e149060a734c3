/** What a set of fan-out watchers of one command has received so far (monotonic ms). */
import { monoMs } from "../stats.js";

export class WatchTally {
  /** Live events received by all watchers together, the first and last at. */
  events = 0;
  firstAt = 0;
  lastAt = 0;
  /** Watchers that saw the command end, and those that broke off. */
  done = 0;
  failed = 0;
  /** Resolves once every watcher is open (markOpened called `count` times). */
  readonly opened: Promise<void>;
  private openedCount = 0;
  private resolveOpened!: () => void;

  constructor(
    readonly count: number,
    readonly close: () => void,
  ) {
    this.opened = new Promise((resolve) => (this.resolveOpened = resolve));
  }

  markOpened(): void {
    if (++this.openedCount === this.count) this.resolveOpened();
  }

  addEvent(): void {
    const now = monoMs();
    if (this.events === 0) this.firstAt = now;
    this.events++;
    this.lastAt = now;
  }
}
