import { spawnSync } from "node:child_process";
import { basename } from "node:path";
import { describe, expect, it } from "vitest";
import { hasBinary, listFiles, readRepoFile, repoPath } from "./ops-files.js";

// The sequence diagrams of docs/diagrams must compile with Debian's plantuml, and show the
// contract names of ARCHITECTURE §3/§5/§7 (subjects, statuses, error strings).

const diagrams = listFiles(repoPath("docs", "diagrams"), (n) => n.endsWith(".puml"));

describe("docs/diagrams", () => {
  it("has the command flow and the timeout flow", () => {
    expect(diagrams.map((d) => basename(d))).toEqual(expect.arrayContaining(["sequence_command_flow.puml", "sequence_error_flow.puml"]));
  });

  it("shows submit, dispatch, chunks and watch with their subjects", () => {
    const text = readRepoFile("docs", "diagrams", "sequence_command_flow.puml");
    for (const s of ["SubmitCommand", "sovd.v1.vehicle.{vehicle_id}.execute", "sovd.v1.command.{command_id}.events", "WatchCommand", "command_completed", "is_final = true"]) {
      expect(text).toContain(s);
    }
  });

  it("shows the deadline timer and the sweep ending in the timeout status", () => {
    const text = readRepoFile("docs", "diagrams", "sequence_error_flow.puml");
    for (const s of ["Vehicle connection timeout", "command_timeout", "FOR UPDATE SKIP LOCKED", "deadline_at", "after_terminal"]) {
      expect(text).toContain(s);
    }
  });
});

describe.skipIf(!hasBinary("plantuml"))("plantuml -checkonly", () => {
  it.each(diagrams.map((d) => [basename(d), d]))("compiles %s", (_name, file) => {
    const run = spawnSync("plantuml", ["-checkonly", file], { encoding: "utf8", timeout: 120_000 });
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
  });

  it("fails on a broken diagram (the check is real)", () => {
    const run = spawnSync("plantuml", ["-checkonly", "-pipe"], { input: "@startuml\nA -> : \nfoo bar ((\n@enduml\n", encoding: "utf8", timeout: 120_000 });
    expect(run.status).not.toBe(0);
  });
});
