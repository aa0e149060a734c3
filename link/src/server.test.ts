import { create } from "@bufbuild/protobuf";
import { VehicleMessageSchema, type VehicleMessage } from "@sovd/proto";
import { afterEach, describe, expect, it } from "vitest";
import { connectVehicleLink } from "./client.js";
import { LinkError } from "./link-error.js";
import { startVehicleLinkServer, type VehicleLinkServer } from "./server.js";

let server: VehicleLinkServer | undefined;
afterEach(async () => {
  await server?.close(100);
  server = undefined;
});

/** A server whose handler reads every message; resolves what it read once the stream is over. */
async function serve(): Promise<{ port: number; read: Promise<VehicleMessage[]> }> {
  let resolveRead!: (m: VehicleMessage[]) => void;
  const read = new Promise<VehicleMessage[]>((r) => (resolveRead = r));
  server = await startVehicleLinkServer({
    host: "127.0.0.1",
    port: 0,
    onLink: async (link) => {
      const got: VehicleMessage[] = [];
      for await (const m of link.messages) got.push(m);
      resolveRead(got);
    },
  });
  return { port: server.port, read };
}

async function statusOf(messages: AsyncIterable<unknown>): Promise<string> {
  try {
    for await (const _ of messages) void _;
    return "ok";
  } catch (err) {
    return err instanceof LinkError ? `${err.code}: ${err.message}` : String(err);
  }
}

describe("vehicle link server", () => {
  it("ends a stream whose frame is no VehicleMessage with invalid_argument, not internal", async () => {
    const { port, read } = await serve();
    const link = connectVehicleLink({ address: `127.0.0.1:${port}` });
    link.send(create(VehicleMessageSchema, { kind: { case: "heartbeat", value: {} } }));
    // Field 1 with wire type 7 does not exist: protobuf cannot read it.
    link.sendFrame(new Uint8Array([0x0f, 0xff, 0xff]));
    const status = await statusOf(link.messages);
    expect(status).toMatch(/^invalid_argument: .*unreadable message/);
    // What came before the garbage was delivered; the handler saw the stream end.
    expect((await read).map((m) => m.kind.case)).toEqual(["heartbeat"]);
    link.close();
  });
});
