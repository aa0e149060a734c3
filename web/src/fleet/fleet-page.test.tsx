import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConnectionStatus, Role, VehicleService, type ListVehiclesRequest } from "@sovd/proto";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { VehicleSchema } from "@sovd/proto";
import { timestampInit } from "../lib/time.js";
import { createFakeGateway, createStreamControl } from "../testing/fake-gateway.js";
import { FLEET_PAGE_SIZE, FleetPage } from "./fleet-page.js";

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

type VehicleInit = MessageInitShape<typeof VehicleSchema>;

const vehicle = (i: number, status: ConnectionStatus, lastSeenMsAgo: number): VehicleInit => ({
  vehicleId: `v-${i}`,
  vin: `WVWZZZ1JZXW${String(i).padStart(6, "0")}`,
  make: "VW",
  model: "Golf",
  year: 2020,
  connectionStatus: status,
  lastSeenAt: timestampInit(Date.now() - lastSeenMsAgo),
});

const fleet: VehicleInit[] = Array.from({ length: 60 }, (_, i) => vehicle(i, i % 2 === 0 ? ConnectionStatus.ONLINE : ConnectionStatus.OFFLINE, (i + 1) * 60_000));

async function renderFleet(role = Role.ENGINEER) {
  const requests: ListVehiclesRequest[] = [];
  let watches = 0;
  const events = createStreamControl<{ vehicle: VehicleInit }>();
  const gateway = createFakeGateway(
    (router) =>
      router.service(VehicleService, {
        listVehicles: (req) => {
          requests.push(req);
          const matching = fleet.filter((v) => v.vin!.toLowerCase().startsWith(req.query.toLowerCase()));
          const start = Number(req.pageToken || 0);
          const end = start + req.pageSize;
          return { vehicles: matching.slice(start, end), nextPageToken: end < matching.length ? String(end) : "" };
        },
        async *watchVehicles() {
          watches += 1;
          yield* events.stream();
        },
      }),
    { role },
  );
  await gateway.session.login("alice", "pw");
  render(gateway.wrap(<FleetPage />));
  await screen.findByText(fleet[0]!.vin!);
  return { requests, events, gateway, watches: () => watches };
}

const bodyRows = () => within(screen.getByRole("table")).getAllByRole("row").slice(1);

describe("FleetPage", () => {
  it("shows a page of vehicles with VIN, model, connection and last seen", async () => {
    await renderFleet();
    expect(bodyRows()).toHaveLength(FLEET_PAGE_SIZE);
    const second = bodyRows()[1]!;
    expect(second.textContent).toContain("WVWZZZ1JZXW000001");
    expect(second.textContent).toContain("VW Golf");
    expect(second.textContent).toContain("Offline");
    expect(second.textContent).toContain("2 minutes ago");
    expect(bodyRows()[0]!.textContent).toContain("Online");
  });

  it("pages forward and back with the page tokens", async () => {
    const { requests } = await renderFleet();
    fireEvent.click(screen.getByRole("button", { name: "Next →" }));
    await screen.findByText("WVWZZZ1JZXW000025");
    expect(requests.at(-1)).toMatchObject({ pageToken: "25", pageSize: FLEET_PAGE_SIZE });
    fireEvent.click(screen.getByRole("button", { name: "Next →" }));
    await screen.findByText("WVWZZZ1JZXW000050");
    expect(bodyRows()).toHaveLength(10);
    expect((screen.getByRole("button", { name: "Next →" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "← Previous" }));
    await screen.findByText("WVWZZZ1JZXW000025");
  });

  it("searches by VIN through ListVehicles", async () => {
    const { requests } = await renderFleet();
    fireEvent.change(screen.getByLabelText("Search by VIN"), { target: { value: "WVWZZZ1JZXW00004" } });
    await waitFor(() => expect(bodyRows()).toHaveLength(10));
    expect(requests.at(-1)?.query).toBe("WVWZZZ1JZXW00004");
    expect(bodyRows()[0]!.textContent).toContain("WVWZZZ1JZXW000040");
  });

  it("updates a vehicle live from WatchVehicles", async () => {
    const { events } = await renderFleet();
    await screen.findByText("Live");
    expect(bodyRows()[0]!.textContent).toContain("Online");
    act(() => events.push({ vehicle: vehicle(0, ConnectionStatus.OFFLINE, 5 * 60_000) }));
    await waitFor(() => expect(bodyRows()[0]!.textContent).toContain("Offline"));
    expect(bodyRows()[0]!.textContent).toContain("5 minutes ago");
  });

  it("offers viewers no run button", async () => {
    await renderFleet(Role.VIEWER);
    expect(screen.queryAllByRole("link", { name: /Run a command/ })).toHaveLength(0);
    expect(screen.getAllByRole("link", { name: /History of/ })).toHaveLength(FLEET_PAGE_SIZE);
  });

  it("reconnects with backoff when the live feed ends, and reloads what it missed", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    const { events, requests, watches } = await renderFleet();
    await screen.findByText("Live");
    expect(watches()).toBe(1);
    const loads = requests.length;
    act(() => events.end());
    expect(await screen.findByText("Live updates interrupted, reconnecting…")).toBeTruthy();
    await act(() => vi.advanceTimersByTimeAsync(1_000));
    await waitFor(() => expect(watches()).toBe(2));
    expect(await screen.findByText("Live")).toBeTruthy();
    await waitFor(() => expect(requests.length).toBe(loads + 1));
    expect(requests.at(-1)?.pageToken).toBe("");
  });
});
