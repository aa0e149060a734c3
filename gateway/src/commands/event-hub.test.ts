import { create, toBinary } from "@bufbuild/protobuf";
import { BusClosedError, createLogger, createMemoryBus } from "@sovd/platform";
import { CommandEventSchema, CommandStatus, commandEventsSubject } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { createCommandEventHub, withLocalCommandEvents } from "./event-hub.js";

const ID = "11111111-1111-4111-8111-111111111111";
const logger = createLogger({ service: "test", level: "silent" });
const completed = toBinary(CommandEventSchema, create(CommandEventSchema, { commandId: ID, event: { case: "status", value: { status: CommandStatus.COMPLETED } } }));

describe("command event hub", () => {
  it("hands what the gateway publishes itself to its watchers even when the publish fails", async () => {
    const bus = createMemoryBus();
    const hub = await createCommandEventHub({ bus, logger });
    const watcher = hub.watch(ID);
    const broken = withLocalCommandEvents(
      new Proxy(bus, { get: (t, p) => (p === "publish" ? () => { throw new BusClosedError("NATS connection lost"); } : Reflect.get(t, p)) }),
      hub,
    );
    expect(() => broken.publish(commandEventsSubject(ID), completed)).toThrow(BusClosedError);
    const first = await watcher.next();
    expect(first.value).toMatchObject({ commandId: ID, event: { case: "status", value: { status: CommandStatus.COMPLETED } } });
    // Everything but publish is the bus itself.
    expect(broken.kind).toBe("memory");
    expect(broken.subscriptionCount()).toBe(bus.subscriptionCount());
    await watcher.return?.();
    hub.close();
    await bus.close();
  });

  it("ends every watcher, and any new one, with BusClosedError once its subscription is gone", async () => {
    const bus = createMemoryBus();
    const hub = await createCommandEventHub({ bus, logger });
    const before = hub.watch(ID);
    await bus.close();
    await expect(before.next()).rejects.toBeInstanceOf(BusClosedError);
    await expect(hub.watch(ID).next()).rejects.toBeInstanceOf(BusClosedError);
    expect(hub.watcherCount()).toBe(0);
  });
});
