/** The message bus: its interface and named errors, and its two implementations. */
export {
  BusClosedError,
  BusTimeoutError,
  NoRespondersError,
  subjectMatches,
  type Bus,
  type BusHeaders,
  type BusMessage,
  type BusSubscription,
  type RequestOptions,
  type SubscribeOptions,
} from "./bus.js";
export { createMemoryBus } from "./memory-bus.js";
export { createNatsBus, type NatsBusOptions } from "./nats-bus.js";
