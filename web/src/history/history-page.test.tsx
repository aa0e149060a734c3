import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { CommandService, CommandStatus, VehicleService, type ListCommandsRequest } from "@sovd/proto";
import { timestampInit, timestampMs } from "../lib/time.js";
import { parseRoute } from "../lib/router.js";
import { catalogCommandTypes, createFakeGateway } from "../testing/fake-gateway.js";
import { HistoryPage } from "./history-page.js";

afterEach(() => {
  cleanup();
  window.location.hash = "";
});

const VIN = "WVWZZZ1JZXW000007";

/** History over a fake CommandService holding 30 commands, newest first, 25 per page. */
async function renderHistory(hash: string) {
  const requests: ListCommandsRequest[] = [];
  const gateway = createFakeGateway((router) => {
    router.service(CommandService, {
      listCommandTypes: () => ({ commandTypes: catalogCommandTypes() }),
      listCommands: (req) => {
        requests.push(req);
        const all = Array.from({ length: 30 }, (_, i) => ({
          commandId: `c-${i}`,
          vehicleId: "v-7",
          commandName: i % 2 ? "ReadDTC" : "ReadDataByID",
          status: i === 0 ? CommandStatus.FAILED : CommandStatus.COMPLETED,
          submittedAt: timestampInit(Date.now() - i * 60_000),
          completedAt: timestampInit(Date.now() - i * 60_000 + 1200),
        }));
        const start = Number(req.pageToken || 0);
        return { commands: all.slice(start, start + req.pageSize), nextPageToken: start + req.pageSize < all.length ? String(start + req.pageSize) : "" };
      },
    });
    router.service(VehicleService, {
      listVehicles: (req) => ({ vehicles: req.query && VIN.startsWith(req.query) ? [{ vehicleId: "v-7", vin: VIN }] : [] }),
      getVehicle: () => ({ vehicle: { vehicleId: "v-7", vin: VIN, make: "VW", model: "Golf" } }),
    });
  });
  await gateway.session.login("alice", "pw");
  if (parseRoute(hash).name !== "history") throw new Error("not a history route");
  window.location.hash = hash;
  const view = render(gateway.wrap(<HistoryPage />));
  return { requests, view, gateway };
}

const rows = () => within(screen.getByRole("table")).getAllByRole("row").slice(1);

describe("HistoryPage", () => {
  it("lists commands newest first with vehicle, status and duration, and pages", async () => {
    const { requests } = await renderHistory("#/history");
    await waitFor(() => expect(rows()).toHaveLength(25));
    expect(rows()[0]?.textContent).toContain("ReadDataByID");
    expect(rows()[0]?.textContent).toContain("Failed");
    expect(rows()[0]?.textContent).toContain("1.2 s");
    await waitFor(() => expect(rows()[0]?.textContent).toContain(VIN));
    expect(within(rows()[1]!).getByRole("link", { name: "ReadDTC" }).getAttribute("href")).toBe("#/commands/c-1");
    fireEvent.click(screen.getByRole("button", { name: "Next →" }));
    await waitFor(() => expect(rows()).toHaveLength(5));
    expect(requests.at(-1)).toMatchObject({ pageToken: "25", pageSize: 25 });
  });

  it("sends the filters of the URL: vehicle by VIN, status, command and time range", async () => {
    const from = "2026-11-20T08:00";
    const { requests } = await renderHistory(`#/history?vin=${VIN}&status=failed&command=ReadDTC&from=${from}`);
    await waitFor(() => expect(requests).toHaveLength(1));
    const req = requests[0]!;
    expect(req.vehicleId).toBe("v-7");
    expect(req.status).toBe(CommandStatus.FAILED);
    expect(req.commandName).toBe("ReadDTC");
    expect(timestampMs(req.submittedAfter!)).toBe(new Date(from).getTime());
    expect(req.submittedBefore).toBeUndefined();
    expect((screen.getByLabelText("Status") as HTMLSelectElement).value).toBe("failed");
  });

  it("puts applied filters into the URL", async () => {
    await renderHistory("#/history");
    await waitFor(() => expect(rows()).toHaveLength(25));
    fireEvent.change(await screen.findByLabelText("Command"), { target: { value: "ReadDTC" } });
    fireEvent.change(screen.getByLabelText("Status"), { target: { value: "completed" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));
    expect(window.location.hash).toBe("#/history?status=completed&command=ReadDTC");
  });

  it("says so when no vehicle has the VIN", async () => {
    const { requests } = await renderHistory("#/history?vin=NOPE");
    expect((await screen.findByRole("alert")).textContent).toBe("No vehicle has the VIN “NOPE”.");
    expect(requests).toHaveLength(0);
  });
});
