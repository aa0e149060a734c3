/**
 * What the receiving side of the push references shares: counting events as they arrive
 * and waiting, bounded, until all expected ones have.
 */
import { monoMs, sleep } from "../stats.js";

export class EventCounter {
  events = 0;
  lastAt = 0;
  firstAt = 0;
  readonly hops: number[] = [];

  /** One event arrived; `sentAt` (monotonic ms) when the sender stamped it. */
  add(n: number, sentAt?: number): void {
    const now = monoMs();
    if (this.events === 0) this.firstAt = now;
    this.events += n;
    this.lastAt = now;
    if (sentAt !== undefined && this.hops.length < 100_000) this.hops.push(now - sentAt);
  }

  reset(): void {
    this.events = 0;
    this.lastAt = 0;
    this.firstAt = 0;
    this.hops.length = 0;
  }

  async waitFor(n: number, timeoutMs: number): Promise<{ events: number; firstAt: number; lastAt: number }> {
    const deadline = monoMs() + timeoutMs;
    while (this.events < n && monoMs() < deadline) await sleep(2);
    if (this.events < n) throw new Error(`only ${this.events} of ${n} events arrived in ${timeoutMs} ms`);
    return { events: this.events, firstAt: this.firstAt, lastAt: this.lastAt };
  }
}

/** An event line of the bare push references: `<monotonic ms>|<payload>\n`, about 220 bytes. */
export const eventLine = (): string => `${monoMs().toFixed(3)}|${"x".repeat(200)}\n`;
