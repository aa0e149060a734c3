import { decodeCommandEvent } from "@sovd/domain";
import { AsyncQueue, BusClosedError, type Bus, type BusSubscription, type Logger } from "@sovd/platform";
import { allCommandEventsSubject, type CommandEvent } from "@sovd/proto";

/**
 * Every command event this gateway's watchers need, from ONE bus subscription
 * (`sovd.v1.command.*.events`, architecture §3 "Watch"). An event is decoded once,
 * whatever the number of watchers, and a new watcher costs a map entry instead of a
 * subscription and a server round trip. Each gateway receives every command's events; at
 * a few events per command that is far less than what one gateway can take.
 */
/**
 * Handed to every watcher when the bus connection came back after an outage: events published
 * meanwhile may be lost, so the watcher reads what it missed from the database.
 */
export const RESYNC = Symbol("resync");

/** What a watcher reads from the hub: an event, or the word to catch up from the database. */
export type HubItem = CommandEvent | typeof RESYNC;

export interface CommandEventHub {
  /**
   * Starts queueing the events of `commandId` for one watcher: everything the hub receives
   * from now on. The watcher reads with `for await` and releases with `return()` (a `for await`
   * that ends does it); `signal` releases it too.
   */
  watch(commandId: string, signal?: AbortSignal): AsyncIterableIterator<HubItem>;
  /** Watchers registered now (leak checks, metrics). */
  watcherCount(): number;
  /**
   * Hands an event this gateway publishes itself (a dispatch failure, a cancel, its sweep) to
   * its own watchers at once, as if it had come back from the bus: they see it even while NATS
   * is away. The copy that does come back from the bus is a duplicate the watch drops.
   */
  deliver(subject: string, data: Uint8Array): void;
  close(): void;
}

export async function createCommandEventHub(deps: { bus: Bus; logger: Logger; onBusError?: (err: unknown) => void }): Promise<CommandEventHub> {
  const watchers = new Map<string, Set<AsyncQueue<HubItem>>>();
  let count = 0;
  /** The subscription ended: a new watcher would wait forever, so it ends at once. */
  let gone = false;
  const subscription: BusSubscription = await deps.bus.subscribe(allCommandEventsSubject);
  const stopResync = deps.bus.onReconnect(() => {
    deps.logger.warn({ watchers: count }, "command events reconnected: watchers catch up from the database");
    for (const queues of watchers.values()) for (const q of queues) q.push(RESYNC);
  });

  const deliver = (subject: string, data: Uint8Array): void => {
    const commandId = commandIdOf(subject);
    const queues = commandId && watchers.get(commandId);
    if (!queues) return;
    let event: CommandEvent;
    try {
      event = decodeCommandEvent(data);
    } catch (err) {
      deps.logger.warn({ err, commandId }, "undecodable command event dropped");
      return;
    }
    if (event.commandId !== commandId) return;
    for (const q of queues) q.push(event);
  };

  void (async () => {
    try {
      for await (const message of subscription) deliver(message.subject, message.data);
    } catch (err) {
      deps.onBusError?.(err);
      deps.logger.error({ err }, "command event subscription failed");
    } finally {
      // The bus is gone: end every watcher with a bus failure (`unavailable`, retryable) instead of hanging.
      gone = true;
      for (const queues of watchers.values()) for (const q of queues) q.end(new BusClosedError("command events unavailable"));
    }
  })();

  return {
    watch(commandId, signal) {
      let queues = watchers.get(commandId);
      if (!queues) watchers.set(commandId, (queues = new Set()));
      const set = queues;
      const release = (): void => {
        signal?.removeEventListener("abort", onAbort);
        if (!set.delete(queue)) return;
        count--;
        if (set.size === 0 && watchers.get(commandId) === set) watchers.delete(commandId);
      };
      const queue: AsyncQueue<HubItem> = new AsyncQueue<HubItem>(release);
      const onAbort = (): void => queue.end();
      set.add(queue);
      count++;
      if (gone) queue.end(new BusClosedError("command events unavailable"));
      else if (signal?.aborted) queue.end();
      else signal?.addEventListener("abort", onAbort, { once: true });
      return queue;
    },
    watcherCount: () => count,
    deliver,
    close() {
      stopResync();
      subscription.unsubscribe();
    },
  };
}

const PREFIX = "sovd.v1.command.";
const SUFFIX = ".events";

/** The command id of `sovd.v1.command.{id}.events`. */
function commandIdOf(subject: string): string | undefined {
  if (!subject.startsWith(PREFIX) || !subject.endsWith(SUFFIX)) return undefined;
  return subject.slice(PREFIX.length, subject.length - SUFFIX.length);
}

/**
 * `bus` for the gateway's own publishers: every command event it publishes also goes to
 * `hub.deliver` first (architecture §3 "Watch"), so this gateway's watchers see the command
 * end even when the publish cannot reach NATS. Everything else is the bus itself.
 */
export function withLocalCommandEvents(bus: Bus, hub: Pick<CommandEventHub, "deliver">): Bus {
  const publish: Bus["publish"] = (subject, data, headers) => {
    hub.deliver(subject, data);
    bus.publish(subject, data, headers);
  };
  return new Proxy(bus, {
    get(target, prop) {
      if (prop === "publish") return publish;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
