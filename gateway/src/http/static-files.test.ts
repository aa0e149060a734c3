import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createStaticHandler } from "./static-files.js";

describe("static web app", () => {
  it("says how to build the web app when its folder is missing (503)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "no-web-"));
    const handler = createStaticHandler(join(dir, "dist"));
    const server = createServer((req, res) => void handler(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("web app not built: run <code>npm run build -w web</code>");
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
