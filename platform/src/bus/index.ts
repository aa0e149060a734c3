export * from "./bus.js";
export { createMemoryBus } from "./memory-bus.js";
export { createNatsBus, type NatsBusOptions } from "./nats-bus.js";
