import { describe } from "vitest";
import { busContract } from "../../test/bus-contract.js";
import { createMemoryBus } from "./memory-bus.js";
import { createNatsBus } from "./nats-bus.js";

describe("in-process bus", () => busContract(() => Promise.resolve(createMemoryBus())));

// The NATS leg needs a server: CI (.ci/run) always provides NATS_URL; without one it is not defined.
const natsUrl = process.env.NATS_URL;
if (natsUrl) describe("NATS bus", () => busContract(() => createNatsBus({ url: natsUrl, name: "bus-contract" })));
