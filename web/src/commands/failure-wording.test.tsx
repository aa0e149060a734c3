import { describe, expect, it } from "vitest";
import { ConnectionStatus, ErrorMessages, FailurePhase, type Vehicle } from "@sovd/proto";
import { timestampInit } from "../lib/time.js";
import { describeFailure } from "./failure-wording.js";

const now = new Date("2026-11-22T12:00:00Z");

function vehicle(status: ConnectionStatus, lastSeenMsAgo?: number): Vehicle {
  return {
    $typeName: "sovd.v1.Vehicle",
    vehicleId: "v-1",
    vin: "WVWZZZ1JZXW000001",
    make: "VW",
    model: "Golf",
    year: 2021,
    connectionStatus: status,
    ...(lastSeenMsAgo === undefined ? {} : { lastSeenAt: { $typeName: "google.protobuf.Timestamp", ...timestampInit(now.getTime() - lastSeenMsAgo) } }),
  };
}

describe("describeFailure", () => {
  it("names when an offline vehicle was last seen", () => {
    const w = describeFailure({ errorMessage: ErrorMessages.unreachable, vehicle: vehicle(ConnectionStatus.OFFLINE, 5 * 60_000 + 3_000), now });
    expect(w.headline).toBe("Vehicle offline. Last seen 5 minutes ago.");
  });

  it("says the vehicle could not be reached when it is online or unknown", () => {
    expect(describeFailure({ errorMessage: ErrorMessages.unreachable, vehicle: vehicle(ConnectionStatus.ONLINE, 1000), now }).headline).toBe(
      "The vehicle could not be reached.",
    );
    expect(describeFailure({ errorMessage: ErrorMessages.unreachable, now }).headline).toBe("The vehicle could not be reached.");
  });

  it("says an offline vehicle that never connected has not connected yet", () => {
    expect(describeFailure({ errorMessage: ErrorMessages.unreachable, vehicle: vehicle(ConnectionStatus.OFFLINE), now }).headline).toBe(
      "Vehicle offline. It has not connected yet.",
    );
  });

  it("names the configured timeout, falling back to the catalog's", () => {
    expect(describeFailure({ errorMessage: ErrorMessages.timeout, configuredTimeoutMs: 30_000, catalogTimeoutMs: 10_000, now }).headline).toBe(
      "The vehicle did not answer within 30 s.",
    );
    expect(describeFailure({ errorMessage: ErrorMessages.timeout, configuredTimeoutMs: 0, catalogTimeoutMs: 1_500, now }).headline).toBe(
      "The vehicle did not answer within 1.5 s.",
    );
    expect(describeFailure({ errorMessage: ErrorMessages.timeout, now }).headline).toBe("The vehicle did not answer in time.");
  });

  it("says a garbled answer could not be read, with the phase", () => {
    const w = describeFailure({ errorMessage: ErrorMessages.malformed, phase: FailurePhase.RESPONSE, now });
    expect(w.headline).toBe("The vehicle sent an answer we could not read.");
    expect(w.phase).toBe("Failed while receiving the answer from the vehicle.");
  });

  it("gives each known phase its own sentence and none for unspecified", () => {
    expect(describeFailure({ errorMessage: ErrorMessages.unreachable, phase: FailurePhase.DISPATCH, now }).phase).toMatch(/dispatching/);
    expect(describeFailure({ errorMessage: ErrorMessages.timeout, phase: FailurePhase.DELIVERY, now }).phase).toMatch(/delivering/);
    expect(describeFailure({ errorMessage: ErrorMessages.timeout, phase: FailurePhase.UNSPECIFIED, now }).phase).toBeUndefined();
  });

  it("shows an unknown message as it is", () => {
    expect(describeFailure({ errorMessage: "Connector shutting down", now }).headline).toBe("Connector shutting down");
  });
});
