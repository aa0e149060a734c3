import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService } from "@sovd/proto";
import { captureLogs } from "@sovd/platform";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { codeOf, take, TEST_PASSWORD, useStack, type UserSession } from "../src/index.js";

/** Opens a WebSocket and resolves with the first message or the close, whichever comes first. */
function wsFirst(url: string): Promise<{ message?: Record<string, unknown>; close?: { code: number; reason: string } }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    ws.once("message", (data) => {
      resolve({ message: JSON.parse(data.toString()) as Record<string, unknown> });
      ws.close();
    });
    ws.once("close", (code, reason) => resolve({ close: { code, reason: reason.toString() } }));
    ws.once("error", () => undefined);
  });
}

describe("secrets stay out of logs; others' commands stay invisible", () => {
  const stack = useStack({ fakeConnector: true });
  let engineer: UserSession;
  let commandId: string;
  let stopConnector: () => void;
  beforeAll(async () => {
    engineer = await stack.login("engineer");
    const v = stack.vehicle(0);
    stopConnector = (await stack.fakeConnector(v.vehicleId)).stop;
    const { command } = await engineer.commands.submitCommand({ vehicleId: v.vehicleId, commandName: "ReadDTC" });
    commandId = command!.commandId;
    await stack.waitForStatus(commandId, "in_progress");
    await stack.chunk(commandId, 1, { dtcCode: "P0420", description: "Catalyst System Efficiency Below Threshold" });
  });
  afterAll(() => {
    stopConnector?.();
  });

  it("no log line carries a password, access token, refresh token or stream ticket", async () => {
    const wrongPassword = "Sup3r-Secret-Wrong-Passw0rd!";
    const auth = createClient(AuthService, createConnectTransport({ baseUrl: stack.baseUrl, httpVersion: "1.1" }));
    const login = await auth.login({ username: "engineer", password: TEST_PASSWORD });
    expect((await codeOf(auth.login({ username: "engineer", password: wrongPassword }))).code).toBe(Code.Unauthenticated);
    expect((await codeOf(auth.login({ username: wrongPassword, password: TEST_PASSWORD }))).code).toBe(Code.Unauthenticated);
    const refreshed = await auth.refresh({ refreshToken: login.refreshToken });
    // Reuse of the rotated token: logged as a warning, still without the token.
    expect((await codeOf(auth.refresh({ refreshToken: login.refreshToken }))).code).toBe(Code.Unauthenticated);
    const bearer = { headers: { authorization: `Bearer ${refreshed.accessToken}` } };
    const tampered = `${refreshed.accessToken.slice(0, -4)}AAAA`;
    expect((await codeOf(auth.whoAmI({}, { headers: { authorization: `Bearer ${tampered}` } }))).code).toBe(Code.Unauthenticated);
    const { ticket } = await auth.createStreamTicket({ commandId }, bearer);
    const ws = stack.baseUrl.replace("http", "ws");
    expect((await wsFirst(`${ws}/ws/responses/${commandId}?ticket=${ticket}`)).message).toMatchObject({ event: "response" });
    expect((await wsFirst(`${ws}/ws/responses/${commandId}?ticket=${ticket}`)).close?.code).toBe(1008);
    expect((await wsFirst(`${ws}/ws/responses/${commandId}?token=${refreshed.accessToken}`)).message).toMatchObject({ event: "response" });
    expect((await wsFirst(`${ws}/ws/responses/${commandId}?token=${tampered}`)).close?.code).toBe(1008);
    await auth.logout({ refreshToken: refreshed.refreshToken }, bearer);

    const text = JSON.stringify(stack.logs);
    // The logs did record what happened (so the absence below means something)...
    expect(stack.logs.some((l) => l.msg === "login failed" && l.username === "engineer")).toBe(true);
    expect(stack.logs.some((l) => l.msg === "refresh token reused; its family is revoked")).toBe(true);
    // ...without any secret.
    const secrets = {
      password: TEST_PASSWORD,
      wrongPassword,
      accessToken: login.accessToken,
      refreshToken: login.refreshToken,
      rotatedAccessToken: refreshed.accessToken,
      rotatedRefreshToken: refreshed.refreshToken,
      tamperedToken: tampered,
      ticket,
      accessSignature: login.accessToken.split(".")[2]!,
    };
    for (const [name, secret] of Object.entries(secrets)) expect(text.includes(secret), name).toBe(false);
  });

  it("another engineer's command answers not_found, exactly like a command that does not exist", async () => {
    const other = await stack.login("engineer2");
    const missing = "7d3b9a52-5a43-4c1e-9a59-2f1ac3e0a0ff";
    const forOther = await codeOf(other.commands.getCommand({ commandId }));
    const forMissing = await codeOf(other.commands.getCommand({ commandId: missing }));
    expect(forOther).toEqual({ code: Code.NotFound, message: forMissing.message });
    expect((await codeOf(take(other.commands.watchCommand({ commandId })))).code).toBe(Code.NotFound);
    expect((await codeOf(other.commands.cancelCommand({ commandId }))).code).toBe(Code.NotFound);
    const listed = await other.commands.listCommands({});
    expect(listed.commands.map((c) => c.commandId)).not.toContain(commandId);
    // A ticket of the other engineer does not open the stream either.
    const auth = createClient(AuthService, createConnectTransport({ baseUrl: stack.baseUrl, httpVersion: "1.1" }));
    const { ticket } = await auth.createStreamTicket({ commandId }, { headers: { authorization: `Bearer ${other.accessToken}` } });
    const ws = await wsFirst(`${stack.baseUrl.replace("http", "ws")}/ws/responses/${commandId}?ticket=${ticket}`);
    expect(ws.close?.code).toBe(1008);
  });

  it("viewers and admins see every command", async () => {
    for (const who of ["viewer", "admin"] as const) {
      const c = await stack.login(who);
      const got = await c.commands.getCommand({ commandId });
      expect(got.command?.commandId).toBe(commandId);
      expect(got.responses.map((r) => r.sequenceNumber)).toEqual([1]);
    }
  });
});

describe("logger redaction", () => {
  it("blanks tokens, hashes and the JWT secret wherever the objects put them", async () => {
    const { logger, text: logged } = captureLogs({ service: "redaction-test", level: "info" });
    logger.info(
      {
        password: "pw-1",
        req: { headers: { authorization: "Bearer tok-2" }, refresh_token: "tok-3" },
        user: { password_hash: "scrypt$hash-4", passwordHash: "hash-5" },
        config: { auth: { jwtSecret: "secret-6" } },
        access_token: "tok-7",
        ticket: "tok-8",
      },
      "redaction check",
    );
    const text = logged();
    expect(text).toContain("redaction check");
    for (const secret of ["pw-1", "tok-2", "tok-3", "hash-4", "hash-5", "secret-6", "tok-7", "tok-8"]) expect(text, secret).not.toContain(secret);
  });
});
