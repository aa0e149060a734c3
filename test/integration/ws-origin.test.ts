import { beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { useStack, type UserSession } from "../src/index.js";

/** Opens the bridge with an `Origin` header; the HTTP status it was refused with, or "open". */
function tryOpen(url: string, origin: string | undefined): Promise<number | "open"> {
  const ws = new WebSocket(url, origin === undefined ? {} : { origin });
  return new Promise((resolve, reject) => {
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("open", () => {
      resolve("open");
      ws.close();
    });
    ws.once("error", (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe("WebSocket bridge origin check (architecture §7 \"Gateway HTTP\")", () => {
  const stack = useStack({ fakeConnector: true });
  let engineer: UserSession;
  let url: string;

  beforeAll(async () => {
    engineer = await stack.login("engineer");
    const v = stack.vehicle(0);
    const connector = await stack.fakeConnector(v.vehicleId);
    const { command } = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC" });
    connector.stop();
    url = `${stack.baseUrl.replace("http", "ws")}/ws/responses/${command!.commandId}?token=${engineer.accessToken}`;
  });

  it("refuses a foreign page with 403, as the HTTP side refuses its preflight", async () => {
    expect(await tryOpen(url, "https://evil.example")).toBe(403);
    expect(await tryOpen(url, "null")).toBe(403);
    // The HTTP side gives the same origin no CORS grant.
    const preflight = await fetch(`${stack.baseUrl}/sovd.v1.CommandService/GetCommand`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(403);
  });

  it("accepts the gateway's own origin, a CORS_ORIGINS entry and clients that send no Origin", async () => {
    expect(await tryOpen(url, stack.baseUrl)).toBe("open");
    expect(await tryOpen(url, "https://app.example.com")).toBe("open");
    expect(await tryOpen(url, undefined)).toBe("open");
  });
});
