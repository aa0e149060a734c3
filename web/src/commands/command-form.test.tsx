import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import { Code, ConnectError } from "@connectrpc/connect";
import { CommandService, CommandStatus, type Command, type SubmitCommandRequest } from "@sovd/proto";
import { catalogCommandTypes, createFakeGateway } from "../testing/fake-gateway.js";
import { CommandForm } from "./command-form.js";

afterEach(cleanup);

/** Renders the form for a signed-in user over a CommandService that records submissions. */
async function renderForm(options: { command?: string; canSubmit?: boolean; reject?: ConnectError } = {}) {
  const submitted: SubmitCommandRequest[] = [];
  const done: Command[] = [];
  const gateway = createFakeGateway((router) =>
    router.service(CommandService, {
      submitCommand: (req) => {
        submitted.push(req);
        if (options.reject) throw options.reject;
        return { command: { commandId: "c-1", vehicleId: req.vehicleId, commandName: req.commandName, status: CommandStatus.PENDING } };
      },
    }),
  );
  await gateway.session.login("alice", "pw");
  render(
    gateway.wrap(
      <CommandForm
        types={catalogCommandTypes()}
        vehicleId="v-1"
        vehicleLabel="WVWZZZ1JZXW000001"
        initialCommand={options.command}
        canSubmit={options.canSubmit ?? true}
        onSubmitted={(c) => done.push(c)}
      />,
    ),
  );
  return { submitted, done, gateway };
}

const send = () => fireEvent.click(screen.getByRole("button", { name: "Send command" }));

describe("CommandForm", () => {
  it("builds the fields from the catalog with defaults, a select for allowed values and bounds for integers", async () => {
    await renderForm({ command: "ReadDataByID" });
    const dataId = screen.getByLabelText(/^dataId/) as HTMLSelectElement;
    expect(dataId.tagName).toBe("SELECT");
    expect([...dataId.options].map((o) => o.value)).toEqual(["", "0xF190", "0xF40D", "0xF40C", "0xF405", "0xF442"]);
    const samples = screen.getByLabelText(/^samples/) as HTMLInputElement;
    expect(samples.type).toBe("number");
    expect(samples.value).toBe("1");
    expect(samples.min).toBe("1");
    expect(samples.max).toBe("20");
  });

  it("refuses to send without a required param and names the field", async () => {
    const { submitted } = await renderForm({ command: "ReadDataByID" });
    send();
    const field = screen.getByLabelText(/^dataId/);
    expect(await screen.findByText("dataId is required.")).toBeTruthy();
    expect(field.getAttribute("aria-invalid")).toBe("true");
    expect(field.getAttribute("aria-describedby")).toContain(screen.getByText("dataId is required.").id);
    expect(submitted).toHaveLength(0);
  });

  it("checks integer bounds and the pattern before sending", async () => {
    const { submitted } = await renderForm({ command: "ReadDataByID" });
    fireEvent.change(screen.getByLabelText(/^dataId/), { target: { value: "0xF40D" } });
    fireEvent.change(screen.getByLabelText(/^samples/), { target: { value: "25" } });
    send();
    expect(await screen.findByText("samples must be between 1 and 20.")).toBeTruthy();

    fireEvent.change(screen.getByLabelText(/^samples/), { target: { value: "2.5" } });
    send();
    expect(await screen.findByText("samples must be a whole number.")).toBeTruthy();
    expect(submitted).toHaveLength(0);

    fireEvent.change(screen.getByLabelText(/^samples/), { target: { value: "5" } });
    send();
    await waitFor(() => expect(submitted).toHaveLength(1));
    expect(submitted[0]?.params).toEqual({ dataId: "0xF40D", samples: 5 });
    expect(submitted[0]?.commandName).toBe("ReadDataByID");
    expect(submitted[0]?.vehicleId).toBe("v-1");
  });

  it("checks a string against its full-match pattern", async () => {
    const { submitted } = await renderForm({ command: "ReadDTC" });
    fireEvent.change(screen.getByLabelText(/^ecuAddress/), { target: { value: "0x1" } });
    send();
    expect(await screen.findByText("ecuAddress must match ^0x[0-9A-Fa-f]{2}$ (for example 0x10).")).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/^ecuAddress/), { target: { value: "0x10 " } });
    send();
    await waitFor(() => expect(submitted).toHaveLength(1));
    expect(submitted[0]?.params).toEqual({ ecuAddress: "0x10", format: "UDS" });
  });

  it("asks for confirmation before a command that changes the vehicle, and sends it once", async () => {
    const { submitted, done } = await renderForm({ command: "ClearDTC" });
    send();
    const dialog = await screen.findByRole("alertdialog");
    expect(dialog.textContent).toContain("ClearDTC changes the vehicle WVWZZZ1JZXW000001");
    expect(submitted).toHaveLength(0);

    fireEvent.click(screen.getByRole("button", { name: "Go back" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(submitted).toHaveLength(0);

    send();
    const confirm = await screen.findByRole("button", { name: "Yes, send ClearDTC" });
    expect(document.activeElement).toBe(confirm);
    fireEvent.click(confirm);
    await waitFor(() => expect(done).toHaveLength(1));
    expect(submitted).toHaveLength(1);
    expect(submitted[0]?.idempotencyKey).not.toBe("");
  });

  it("sends the timeout override and rejects one out of range", async () => {
    const { submitted } = await renderForm({ command: "ReadDTC" });
    fireEvent.change(screen.getByLabelText(/^Timeout/), { target: { value: "0" } });
    send();
    expect(await screen.findByText("Timeout must be a whole number of seconds between 1 and 600.")).toBeTruthy();
    fireEvent.change(screen.getByLabelText(/^Timeout/), { target: { value: "2" } });
    send();
    await waitFor(() => expect(submitted).toHaveLength(1));
    expect(submitted[0]?.timeout?.seconds).toBe(2n);
  });

  it("shows the gateway's invalid_argument next to the field it names", async () => {
    await renderForm({ command: "ReadDataByID", reject: new ConnectError("params.samples: must be at most 20", Code.InvalidArgument) });
    fireEvent.change(screen.getByLabelText(/^dataId/), { target: { value: "0xF40D" } });
    send();
    const message = await screen.findByText("must be at most 20");
    expect(message.className).toBe("field-error");
    expect(screen.getByLabelText(/^samples/).getAttribute("aria-describedby")).toContain(message.id);
  });

  it("shows other rejections as a sentence, not a code", async () => {
    await renderForm({ command: "ReadDTC", reject: new ConnectError("rate limited", Code.ResourceExhausted) });
    send();
    expect((await screen.findByRole("alert")).textContent).toBe("Too many requests. Wait a minute and try again.");
  });

  it("retries a failed send under the same idempotency key, and sends a changed form under a new one", async () => {
    const { submitted } = await renderForm({ command: "ReadDTC", reject: new ConnectError("network", Code.Unavailable) });
    send();
    expect((await screen.findByRole("alert")).textContent).toBe("The gateway cannot be reached. Check your connection and try again.");
    send();
    await waitFor(() => expect(submitted).toHaveLength(2));
    expect(submitted[1]?.idempotencyKey).toBe(submitted[0]?.idempotencyKey);

    fireEvent.change(screen.getByLabelText(/^ecuAddress/), { target: { value: "0x20" } });
    send();
    await waitFor(() => expect(submitted).toHaveLength(3));
    expect(submitted[2]?.idempotencyKey).not.toBe(submitted[0]?.idempotencyKey);
  });

  it("gives a viewer no submit button", async () => {
    await renderForm({ command: "ReadDTC", canSubmit: false });
    expect(screen.queryByRole("button", { name: "Send command" })).toBeNull();
    expect(screen.getByText(/can look at commands but not send them/)).toBeTruthy();
    expect(screen.getByLabelText(/^ecuAddress/)).toBeTruthy();
  });
});

