import { request } from "node:http";
import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";
import { beforeAll, describe, expect, it } from "vitest";
import { useStack } from "../src/index.js";

/**
 * Hostile input: a fuzz pass over the Connect JSON API of a real gateway. Every
 * method of every service gets malformed JSON, wrong types, oversized bodies, huge strings,
 * deep nesting and odd encodings, anonymously and with a valid engineer/admin token. None
 * may crash the gateway, answer a 5xx, leak internals, or write a row.
 */
const TABLES = ["users", "vehicles", "commands", "responses", "audit_logs", "refresh_tokens", "stream_tickets"];

/** JSON text nested `depth` objects deep (built as text: JSON.stringify itself would overflow). */
function deep(depth: number): string {
  return `${'{"a":'.repeat(depth)}"leaf"${"}".repeat(depth)}`;
}

function wideParams(n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]));
}

describe("fuzzing the Connect JSON API", () => {
  const stack = useStack({ fakeConnector: true });
  let engineerToken: string;
  let adminToken: string;
  let vehicleId: string;
  beforeAll(async () => {
    engineerToken = (await stack.login("engineer")).accessToken;
    adminToken = (await stack.login("admin")).accessToken;
    vehicleId = stack.vehicle(0).vehicleId;
  });

  const counts = async () => {
    const out: Record<string, number> = {};
    for (const t of TABLES) out[t] = (await stack.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]!.n;
    return out;
  };

  const methods = [AuthService, VehicleService, CommandService, AuditService].flatMap((s) =>
    s.methods.map((m) => ({ path: `/${s.typeName}/${m.name}`, streaming: m.methodKind !== "unary" })),
  );

  const bodies: Array<[string, string | Buffer]> = [
    ["empty", ""],
    ["truncated", '{"username": "adm'],
    ["not an object", "[1,2,3]"],
    ["null", "null"],
    ["a number", "42"],
    ["trailing garbage", '{"username":"admin"} xyz'],
    ["wrong types", JSON.stringify({ username: 123, password: ["a"], vehicleId: {}, commandName: true, pageSize: "many", commandId: 7 })],
    ["operator injection", JSON.stringify({ username: { $gt: "" }, password: { $ne: null }, vehicleId: { $ne: "" } })],
    ["sql in ids", JSON.stringify({ vehicleId: "' OR 1=1; DROP TABLE commands; --", commandId: "1; DELETE FROM audit_logs", userId: "x'--" })],
    ["proto pollution", '{"__proto__": {"role": "admin"}, "constructor": {"prototype": {"admin": true}}}'],
    ["unknown fields", JSON.stringify({ role: "admin", isAdmin: true, user_id: "00000000-0000-0000-0000-000000000000" })],
    ["nul and control chars", JSON.stringify({ username: "ad\u0000min", password: "\u0000", commandName: "Read\u0000DTC", query: "\u0000\u001b[31m", action: "user\u0000login" })],
    ["huge string (under the body limit)", JSON.stringify({ username: "a".repeat(60_000), refreshToken: "b".repeat(60_000) })],
    ["oversized body", JSON.stringify({ username: "a".repeat(2_000_000) })],
    ["number overflow", '{"pageSize": 1e400, "afterSequence": 99999999999999999999999, "timeout": {"seconds": "-9223372036854775809"}}'],
    ["negative and fractional", JSON.stringify({ pageSize: -1, afterSequence: -5.5 })],
    ["bad timestamps", JSON.stringify({ createdAfter: "yesterday", submittedBefore: "9999-99-99T99:99:99Z" })],
    ["bad enum", JSON.stringify({ status: "EXPLODED", role: 99 })],
    ["invalid utf-8", Buffer.from([0x7b, 0x22, 0x75, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d])],
    ["deep params", `{"vehicleId":"","commandName":"ReadDTC","params":${deep(10_000)}}`],
    ["deep params on a real vehicle", ""],
    ["wide params on a real vehicle", ""],
    ["huge param value on a real vehicle", ""],
  ];

  const bodyFor = (name: string, raw: string | Buffer): string | Buffer => {
    if (name === "deep params on a real vehicle") return `{"vehicleId":"${vehicleId}","commandName":"ReadDataByID","params":{"dataId":${deep(200)}}}`;
    if (name === "wide params on a real vehicle") return JSON.stringify({ vehicleId, commandName: "ReadDTC", params: wideParams(3_000) });
    if (name === "huge param value on a real vehicle") return JSON.stringify({ vehicleId, commandName: "ReadDTC", params: { ecuAddress: "0x" + "1".repeat(50_000) } });
    return raw;
  };

  /** One POST on a fresh connection (no keep-alive), so a refused oversized body cannot spill into the next request. */
  const send = (path: string, body: string | Buffer, token?: string, contentType = "application/json") =>
    new Promise<{ status: number; text: string }>((resolve) => {
      const headers: Record<string, string | number> = { "content-type": contentType, "content-length": Buffer.byteLength(body) };
      if (token) headers.authorization = `Bearer ${token}`;
      const req = request(`${stack.baseUrl}${path}`, { method: "POST", headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (err) => resolve({ status: res.statusCode ?? 0, text: String(err) }));
      });
      // The server may refuse an oversized body before reading it all and reset the connection.
      req.on("error", (err) => resolve({ status: 0, text: String(err) }));
      req.end(body);
    });

  it.each(methods)("$path: no malformed request gets a 5xx or internals, or writes a row", async ({ path, streaming }) => {
    const before = await counts();
    const failures: string[] = [];
    let ticketsIssued = 0;
    for (const [name, raw] of bodies) {
      for (const [who, token] of [["anonymous", undefined], ["engineer", engineerToken], ["admin", adminToken]] as const) {
        // Server-streaming methods speak the enveloped connect+json content type.
        const r = await send(path, bodyFor(name, raw), token, streaming ? "application/connect+json" : "application/json");
        const where = `${who} ${name}: ${r.status} ${r.text.slice(0, 200)}`;
        if (r.status >= 500 || (r.status === 0 && name !== "oversized body")) failures.push(where);
        if (/\n\s+at |node_modules|SELECT |INSERT |password_hash|scrypt\$/.test(r.text)) failures.push(`leak: ${where}`);
        // Unknown fields are ignored, so some bodies are valid requests; only a ticket request writes (its ticket).
        if (path.endsWith("/CreateStreamTicket") && r.status === 200) ticketsIssued++;
      }
    }
    expect(failures).toEqual([]);
    expect(await counts()).toEqual({ ...before, stream_tickets: before.stream_tickets! + ticketsIssued });
  });

  it("survives a concurrent burst of garbage and still serves real requests", async () => {
    const before = await counts();
    const burst = Array.from({ length: 60 }, (_, i) => {
      const [name, raw] = bodies[i % bodies.length]!;
      const path = methods[i % methods.length]!.path;
      return send(path, bodyFor(name, raw), i % 2 ? engineerToken : undefined).then((r) => ({ where: `${path} ${name}`, path, ...r }));
    });
    const results = await Promise.all(burst);
    expect(results.filter((r) => r.status >= 500 || (r.status === 0 && !r.where.endsWith("oversized body")))).toEqual([]);
    // Unknown fields are ignored, so a garbage body may still be a valid ticket request: only those write.
    const ticketsIssued = results.filter((r) => r.path.endsWith("/CreateStreamTicket") && r.status === 200).length;
    expect(await counts()).toEqual({ ...before, stream_tickets: before.stream_tickets! + ticketsIssued });
    expect((await fetch(`${stack.baseUrl}/health/live`)).status).toBe(200);
    const ok = await send("/sovd.v1.CommandService/ListCommandTypes", "{}", engineerToken);
    expect(ok.status).toBe(200);
  });

  it("refuses other content types and methods without touching the database", async () => {
    const before = await counts();
    const xml = await send("/sovd.v1.AuthService/Login", "<login><username>admin</username></login>", undefined, "application/xml");
    expect(xml.status).toBeGreaterThanOrEqual(400);
    expect(xml.status).toBeLessThan(500);
    const get = await fetch(`${stack.baseUrl}/sovd.v1.AuthService/Login?message=${encodeURIComponent('{"username":"admin"}')}&encoding=json`);
    expect(get.status).toBeLessThan(500);
    expect(await counts()).toEqual(before);
  });
});
