/**
 * A nats-server process of the suite's own on a free loopback port, so restarting it takes
 * NATS away from the suite's services only, never from anyone sharing the machine's server.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { freePort } from "../bench/system/free-port.js";
import { sleep, waitFor } from "../bench/stats.js";

const CANDIDATES = [process.env.NATS_SERVER_BIN, "/usr/sbin/nats-server", "/usr/local/bin/nats-server", "/usr/bin/nats-server"];

export interface OwnNats {
  readonly url: string;
  readonly port: number;
  /** Stops the server (the outage begins). */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  start(): Promise<void>;
  readonly running: boolean;
}

function binary(): string {
  const found = CANDIDATES.find((p): p is string => p !== undefined && existsSync(p));
  if (!found) throw new Error("no nats-server binary (set NATS_SERVER_BIN); the suite needs a NATS server of its own");
  return found;
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });

export async function startOwnNats(): Promise<OwnNats> {
  const bin = binary();
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn(bin, ["-a", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    const c = child;
    c.once("exit", () => {
      if (child === c) child = undefined;
    });
    await waitFor(`nats-server on ${port}`, 10_000, async () => ((await accepts(port)) ? true : undefined), 50);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    if (!c) return;
    const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    c.kill("SIGKILL");
    await Promise.race([exited, sleep(5000)]);
    child = undefined;
  };
  await start();
  process.once("exit", () => child?.kill("SIGKILL"));
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    stop,
    start,
    get running() {
      return child !== undefined;
    },
  };
}
