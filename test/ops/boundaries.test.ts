import { readFileSync } from "node:fs";
import { relative } from "node:path";
import { describe, expect, it } from "vitest";
import { listFiles, REPO_ROOT, repoPath } from "./ops-files.js";

/**
 * The command lifecycle has one home (architecture §2 "The shared command store"): only the
 * domain workspace writes or reads the `commands` and `responses` tables. A statement on them
 * anywhere else in the services' sources fails here, so the rule cannot erode unnoticed.
 */
const SERVICE_SOURCES = ["platform/src", "link/src", "gateway/src", "connector/src", "vehicle-sim/src", "scripts"];
const COMMAND_SQL = /\b(INSERT\s+INTO|UPDATE|DELETE\s+FROM|FROM|JOIN)\s+(commands|responses)\b/i;

describe("module boundaries", () => {
  it("no service source outside domain/ has SQL on commands or responses", () => {
    const offenders: string[] = [];
    let read = 0;
    for (const dir of SERVICE_SOURCES) {
      for (const file of listFiles(repoPath(dir), (n) => n.endsWith(".ts") && !n.endsWith(".test.ts"))) {
        read++;
        readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            if (COMMAND_SQL.test(line)) offenders.push(`${relative(REPO_ROOT, file)}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(read).toBeGreaterThan(50);
    expect(offenders).toEqual([]);
  });

  it("the rule would see such a statement", () => {
    expect(COMMAND_SQL.test("await pool.query(`UPDATE commands SET status = 'failed'`)")).toBe(true);
    expect(COMMAND_SQL.test("SELECT count(*) FROM responses WHERE command_id = $1")).toBe(true);
    expect(COMMAND_SQL.test("the commands a vehicle received")).toBe(false);
  });
});
