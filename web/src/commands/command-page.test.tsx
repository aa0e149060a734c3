import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CommandService,
  CommandStatus,
  ConnectionStatus,
  ErrorMessages,
  FailurePhase,
  VehicleService,
  type WatchCommandRequest,
} from "@sovd/proto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { CommandEventSchema } from "@sovd/proto";
import { formatDateTime, timestampInit } from "../lib/time.js";
import { catalogCommandTypes, createFakeGateway, createStreamControl } from "../testing/fake-gateway.js";
import { CommandPage } from "./command-page.js";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

type EventInit = MessageInitShape<typeof CommandEventSchema>;

const SUBMITTED = Date.parse("2026-11-22T12:00:00Z");

const chunk = (seq: number, payload: Record<string, unknown>, isFinal = false, atMs = 500 * seq): EventInit => ({
  commandId: "c-1",
  event: {
    case: "response",
    value: { responseId: `r-${seq}`, sequenceNumber: seq, isFinal, payload: payload as never, receivedAt: timestampInit(SUBMITTED + atMs) },
  },
});
const status = (s: CommandStatus, extra: Record<string, unknown> = {}): EventInit => ({
  commandId: "c-1",
  event: { case: "status", value: { status: s, ...extra } },
});

/** A command page over a fake CommandService whose WatchCommand the test drives. */
async function renderPage(commandName: string, options: { stored?: EventInit[]; status?: CommandStatus; failure?: Record<string, unknown>; errorMessage?: string; vehicleOffline?: boolean } = {}) {
  const live = createStreamControl<EventInit>();
  const watches: WatchCommandRequest[] = [];
  const cancels: string[] = [];
  const reads: string[] = [];
  const stored = (options.stored ?? []).flatMap((e) => (e.event?.case === "response" ? [e.event.value] : []));
  const gateway = createFakeGateway((router) => {
    router.service(CommandService, {
      listCommandTypes: () => ({ commandTypes: catalogCommandTypes() }),
      getCommand: (req) => {
        reads.push(req.commandId);
        return {
          command: {
            commandId: "c-1",
            vehicleId: "v-1",
            commandName,
            status: options.status ?? CommandStatus.IN_PROGRESS,
            errorMessage: options.errorMessage ?? "",
            submittedAt: timestampInit(SUBMITTED),
            deadlineAt: timestampInit(SUBMITTED + 30_000),
            correlationId: "req-1",
            ...(options.failure ? { failure: options.failure } : {}),
          },
          responses: stored,
        };
      },
      async *watchCommand(req) {
        watches.push(req);
        yield* live.stream();
      },
      cancelCommand: (req) => {
        cancels.push(req.commandId);
        return { command: { commandId: "c-1", vehicleId: "v-1", commandName, status: CommandStatus.CANCELLED, errorMessage: ErrorMessages.cancelled } };
      },
    });
    router.service(VehicleService, {
      getVehicle: () => ({
        vehicle: {
          vehicleId: "v-1",
          vin: "WVWZZZ1JZXW000001",
          make: "VW",
          model: "Golf",
          connectionStatus: options.vehicleOffline ? ConnectionStatus.OFFLINE : ConnectionStatus.ONLINE,
          lastSeenAt: timestampInit(Date.now() - 5 * 60_000 - 10_000),
        },
      }),
    });
  });
  await gateway.session.login("alice", "pw");
  render(gateway.wrap(<CommandPage commandId="c-1" />));
  await screen.findByRole("heading", { level: 1, name: new RegExp(commandName) });
  return { live, watches, cancels, reads };
}

const timelineItems = () => within(screen.getByRole("list", { name: "Chunks received" })).getAllByRole("listitem");

describe("CommandPage", () => {
  it("shows ReadDTC chunks as they arrive: timeline with sequence and timing, DTC table, then completed", async () => {
    const { live, watches } = await renderPage("ReadDTC");
    await waitFor(() => expect(watches).toHaveLength(1));
    expect(watches[0]?.afterSequence).toBe(0);
    expect(screen.getByText("In progress")).toBeTruthy();

    act(() => live.push(chunk(1, { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" })));
    await waitFor(() => expect(timelineItems()).toHaveLength(1));
    expect(timelineItems()[0]?.textContent).toContain("#1");
    expect(timelineItems()[0]?.textContent).toContain("+500 ms");
    expect(screen.getByRole("table").textContent).toContain("P0420");

    act(() => live.push(chunk(2, { dtcCode: "P0171", description: "System Too Lean (Bank 1)" })));
    act(() => live.push(chunk(2, { dtcCode: "P0171", description: "System Too Lean (Bank 1)" }))); // replayed twice
    act(() => live.push(chunk(3, { status: "complete", totalDtcs: 2 }, true)));
    act(() => live.push(status(CommandStatus.COMPLETED, { completedAt: timestampInit(SUBMITTED + 1600) })));
    act(() => live.end());

    await waitFor(() => expect(screen.getByText("Completed")).toBeTruthy());
    expect(timelineItems().map((li) => li.getAttribute("data-sequence"))).toEqual(["1", "2", "3"]);
    expect(timelineItems()[2]?.textContent).toContain("Complete: 2 trouble codes");
    const rows = within(screen.getByRole("table")).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.textContent)).toEqual(["P0420Catalyst System Efficiency Below Threshold", "P0171System Too Lean (Bank 1)"]);
    expect(screen.queryByRole("button", { name: "Cancel command" })).toBeNull();
    expect(await screen.findByText("Finished")).toBeTruthy();
  });

  it("shows when the command ended from the terminal status event, reading the command only once", async () => {
    const { live, reads } = await renderPage("ReadDTC");
    const ended = () => screen.getByText("Ended").nextElementSibling?.textContent;
    expect(ended()).toBe("–");
    act(() => live.push(status(CommandStatus.COMPLETED, { completedAt: timestampInit(SUBMITTED + 1600) })));
    act(() => live.end());
    expect(await screen.findByText("Finished")).toBeTruthy();
    expect(ended()).toBe(formatDateTime(new Date(SUBMITTED + 1600)));
    expect(reads).toHaveLength(1);
  });

  it("grows the ReadDataByID chart with each sample", async () => {
    const { live } = await renderPage("ReadDataByID");
    const sample = (seq: number, value: number) => chunk(seq, { dataId: "0xF40D", name: "Vehicle speed", value, unit: "km/h", sampledAt: new Date().toISOString() });
    act(() => live.push(sample(1, 40)));
    const chart = await screen.findByRole("img");
    expect(chart.getAttribute("data-samples")).toBe("1");
    act(() => live.push(sample(2, 55)));
    act(() => live.push(sample(3, 61)));
    await waitFor(() => expect(screen.getByRole("img").getAttribute("data-samples")).toBe("3"));
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("Vehicle speed (km/h): 3 samples, latest 61");
    expect(screen.getByRole("img").querySelectorAll("circle")).toHaveLength(3);
  });

  it("resumes a broken stream after the last chunk it has, without repeats", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { live, watches } = await renderPage("ReadDTC");
    act(() => live.push(chunk(1, { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" })));
    await waitFor(() => expect(timelineItems()).toHaveLength(1));
    act(() => live.fail(new ConnectError("network", Code.Unavailable)));
    expect(await screen.findByText("Connection lost, reconnecting…")).toBeTruthy();
    await act(() => vi.advanceTimersByTimeAsync(1_000));
    await waitFor(() => expect(watches).toHaveLength(2));
    expect(watches[1]?.afterSequence).toBe(1);
    act(() => live.push(chunk(2, { dtcCode: "P0171", description: "System Too Lean (Bank 1)" })));
    await waitFor(() => expect(timelineItems()).toHaveLength(2));
    expect(screen.getByText("Live")).toBeTruthy();
  });

  it("words a timeout with the configured deadline and the failure phase", async () => {
    const { live } = await renderPage("ReadDTC");
    act(() =>
      live.push(
        status(CommandStatus.FAILED, {
          errorMessage: ErrorMessages.timeout,
          failure: { phase: FailurePhase.RESPONSE, configuredTimeoutMs: 1_000, elapsedMs: 1_010 },
        }),
      ),
    );
    const alert = await screen.findByTestId("failure");
    expect(alert.textContent).toContain("The vehicle did not answer within 1 s.");
    expect(alert.textContent).toContain("Failed while receiving the answer from the vehicle.");
    expect(screen.getByText("Failed")).toBeTruthy();
    // Nothing more can arrive: the result panes say so instead of "waiting".
    expect(screen.getByText("The vehicle sent no trouble codes.")).toBeTruthy();
    expect(screen.getByText("No chunks were received.")).toBeTruthy();
  });

  it("words an unreachable offline vehicle with when it was last seen, for a stored command", async () => {
    await renderPage("ReadDTC", {
      status: CommandStatus.FAILED,
      errorMessage: ErrorMessages.unreachable,
      failure: { phase: FailurePhase.DISPATCH },
      vehicleOffline: true,
    });
    await waitFor(() => expect(screen.getByTestId("failure").textContent).toContain("Vehicle offline. Last seen 5 minutes ago."));
  });

  it("shows the stored chunks of a past command", async () => {
    const { watches, live } = await renderPage("ReadDTC", {
      status: CommandStatus.COMPLETED,
      stored: [chunk(1, { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" }), chunk(2, { status: "complete", totalDtcs: 1 }, true)],
    });
    expect(timelineItems()).toHaveLength(2);
    expect(screen.getByRole("table").textContent).toContain("P0420");
    // The gateway replays the terminal status and ends the stream of a finished command.
    await waitFor(() => expect(watches).toHaveLength(1));
    act(() => live.push(status(CommandStatus.COMPLETED)));
    act(() => live.end());
    expect(await screen.findByText("Finished")).toBeTruthy();
    expect(timelineItems()).toHaveLength(2);
    expect(screen.getByText("Completed")).toBeTruthy();
  });

  it("cancels a running command", async () => {
    const { cancels } = await renderPage("ReadDTC");
    fireEvent.click(await screen.findByRole("button", { name: "Cancel command" }));
    await waitFor(() => expect(screen.getByText("Cancelled")).toBeTruthy());
    expect(cancels).toEqual(["c-1"]);
    expect(screen.queryByRole("button", { name: "Cancel command" })).toBeNull();
  });
});

