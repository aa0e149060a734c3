import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { AuditService, Role, type ListAuditLogsRequest } from "@sovd/proto";
import { timestampInit } from "../lib/time.js";
import { createFakeGateway } from "../testing/fake-gateway.js";
import { AuditPage } from "./audit-page.js";

afterEach(() => {
  cleanup();
  window.location.hash = "";
});

async function renderAudit(role: Role) {
  const requests: ListAuditLogsRequest[] = [];
  const gateway = createFakeGateway(
    (router) =>
      router.service(AuditService, {
        listAuditLogs: (req) => {
          requests.push(req);
          return {
            auditLogs: [
              { auditId: "a-2", action: "command_timeout", userId: "u-1", commandId: "c-9", requestId: "req-9", createdAt: timestampInit(Date.now()), details: { timeoutMs: 1000 } },
              { auditId: "a-1", action: "user_login", userId: "u-1", ipAddress: "10.0.0.7", createdAt: timestampInit(Date.now() - 60_000) },
            ],
            nextPageToken: req.pageToken ? "" : "next",
          };
        },
      }),
    { role },
  );
  await gateway.session.login("alice", "pw");
  render(gateway.wrap(<AuditPage />));
  return { requests };
}

describe("AuditPage", () => {
  it("lists entries for an admin and sends the filters", async () => {
    const { requests } = await renderAudit(Role.ADMIN);
    const table = await screen.findByRole("table");
    await waitFor(() => expect(within(table).getAllByRole("row")).toHaveLength(3));
    expect(within(table).getAllByRole("row")[1]?.textContent).toContain("command_timeout");
    expect(within(table).getByRole("link", { name: /c-9/ }).getAttribute("href")).toBe("#/commands/c-9");
    expect(table.textContent).toContain("10.0.0.7");

    fireEvent.change(screen.getByLabelText("Action"), { target: { value: "command_timeout" } });
    fireEvent.change(screen.getByLabelText("Command id"), { target: { value: "c-9" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));
    await waitFor(() => expect(requests.at(-1)).toMatchObject({ action: "command_timeout", commandId: "c-9", pageToken: "" }));

    fireEvent.click(screen.getByRole("button", { name: "Next →" }));
    await waitFor(() => expect(requests.at(-1)).toMatchObject({ action: "command_timeout", pageToken: "next" }));
  });

  it("keeps the filters in the URL, so a reload or Back shows the same entries", async () => {
    window.location.hash = "#/audit?action=user_login&userId=u-1";
    const { requests } = await renderAudit(Role.ADMIN);
    await waitFor(() => expect(requests).toHaveLength(1));
    expect(requests[0]).toMatchObject({ action: "user_login", userId: "u-1", commandId: "", pageToken: "" });
    expect((screen.getByLabelText("Action") as HTMLInputElement).value).toBe("user_login");

    fireEvent.change(screen.getByLabelText("Command id"), { target: { value: "c-9" } });
    fireEvent.click(screen.getByRole("button", { name: "Apply filters" }));
    expect(window.location.hash).toBe("#/audit?action=user_login&userId=u-1&commandId=c-9");
    await waitFor(() => expect(requests.at(-1)).toMatchObject({ action: "user_login", commandId: "c-9" }));
    expect(screen.getByRole("link", { name: "Clear" }).getAttribute("href")).toBe("#/audit");
  });

  it("tells other roles it is for administrators and asks nothing", async () => {
    const { requests } = await renderAudit(Role.ENGINEER);
    expect(screen.getByText("The audit log is for administrators.")).toBeTruthy();
    expect(requests).toHaveLength(0);
  });
});
