import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { fleetIdentity } from "@sovd/platform";
import { CommandStatus } from "@sovd/proto";
import { describe, expect, it } from "vitest";
import { clientsFor, finalStatus, SEEDED_PASSWORDS, watchToEnd } from "../src/index.js";

const root = fileURLToPath(new URL("../..", import.meta.url));

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Runs the embedded default exactly as `npm start` does, on free ports and a scratch data dir. */
async function startAllInOne(dataDir: string): Promise<Running> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // vitest sets NODE_ENV=test; npm start's own default is development.
    NODE_ENV: "development",
    GATEWAY_PORT: "0",
    CONNECTOR_GRPC_PORT: "0",
    CONNECTOR_HTTP_PORT: "0",
    DATA_DIR: dataDir,
    FAULT_TIMEOUT_RATE: "0",
    FAULT_UNREACHABLE_RATE: "0",
    FAULT_MALFORMED_RATE: "0",
    SIM_NETWORK_DELAY_MS: "0",
    SIM_CHUNK_INTERVAL_MS: "20",
    LOG_LEVEL: "warn",
  };
  delete env.DATABASE_URL;
  delete env.NATS_URL;
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start-all.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not come up:\n${out}`)), 90_000);
    const check = (): void => {
      const m = /Web app\s+(http:\/\/localhost:\d+)/.exec(out);
      if (m && /every vehicle is online|Demo fleet/.test(out)) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${out}`));
    });
  });
  return { child, url, output: () => out };
}

async function stop(run: Running): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => run.child.once("exit", (code) => resolve(code)));
  run.child.kill("SIGTERM");
  return exited;
}

describe("npm start (embedded default)", () => {
  it("runs a command end to end, stops cleanly on SIGTERM and keeps its data across restarts", { timeout: 240_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "sovd-embedded-"));
    try {
      const first = await startAllInOne(dataDir);
      const clients = clientsFor(first.url);
      const login = await clients().auth.login({ username: "engineer", password: SEEDED_PASSWORDS.engineer! });
      const engineer = clients(login.accessToken);
      // The seeded development vehicle is the simulator's first vehicle.
      await expect
        .poll(async () => {
          try {
            return (await engineer.commands.submitCommand({ vehicleId: fleetIdentity(0).vehicleId, commandName: "ReadDTC" })).command?.commandId;
          } catch {
            return undefined;
          }
        }, { timeout: 20_000 })
        .toBeTruthy();
      const { commands: history } = await engineer.commands.listCommands({});
      const commandId = history[0]!.commandId;
      const seen = await watchToEnd(engineer, commandId, { timeoutMs: 20_000 });
      expect(seen.chunks.map((c) => c.sequence)).toEqual([1, 2, 3]);
      expect(finalStatus(seen)).toBe(CommandStatus.COMPLETED);
      expect(await stop(first)).toBe(0);

      const second = await startAllInOne(dataDir);
      const clientsAgain = clientsFor(second.url);
      const again = await clientsAgain().auth.login({ username: "engineer", password: SEEDED_PASSWORDS.engineer! });
      const kept = await clientsAgain(again.accessToken).commands.getCommand({ commandId });
      expect(kept.command?.status).toBe(CommandStatus.COMPLETED);
      expect(kept.responses).toHaveLength(3);
      expect(await stop(second)).toBe(0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
