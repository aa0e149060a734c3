import { AuditService, AuthService, CommandService, VehicleService } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { METHOD_RULES, ruleFor } from "./method-rules.js";

describe("method rules", () => {
  it("cover every method of every browser-facing service", () => {
    const methods = [AuthService, VehicleService, CommandService, AuditService].flatMap((s) => s.methods);
    expect(METHOD_RULES.size).toBe(methods.length);
    for (const m of methods) expect(METHOD_RULES.has(`${m.parent.typeName}/${m.name}`)).toBe(true);
  });

  it("keep only Login and Refresh public, and submit/cancel/audit elevated", () => {
    const open = [...METHOD_RULES].filter(([, r]) => r.access === "public").map(([k]) => k);
    expect(open.sort()).toEqual(["sovd.v1.AuthService/Login", "sovd.v1.AuthService/Refresh"]);
    expect(ruleFor(CommandService.method.submitCommand)).toEqual({ access: "engineer", scope: "submit" });
    expect(ruleFor(CommandService.method.cancelCommand).access).toBe("engineer");
    expect(ruleFor(AuditService.method.listAuditLogs).access).toBe("admin");
  });
});
