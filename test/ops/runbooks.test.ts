import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { headingAnchor, listFiles, markdownHeadings, readRepoFile, repoPath } from "./ops-files.js";

// The runbooks are what an on-call engineer opens at 3 a.m.: their links must lead
// somewhere, and they must cover the failure modes and procedures operations need.

const RUNBOOKS = repoPath("docs", "runbooks");

describe("docs/runbooks", () => {
  it("has the four runbooks", () => {
    for (const f of ["deployment.md", "troubleshooting.md", "disaster_recovery.md", "monitoring.md"]) {
      expect(existsSync(join(RUNBOOKS, f)), f).toBe(true);
    }
  });

  it("links only to files and sections that exist", () => {
    for (const file of listFiles(RUNBOOKS, (n) => n.endsWith(".md"))) {
      const text = readFileSync(file, "utf8");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // http(s), mailto
        const [path, anchor] = target!.split("#");
        const resolved = path ? join(dirname(file), path) : file;
        expect(existsSync(resolved), `${relative(RUNBOOKS, file)} -> ${target}`).toBe(true);
        if (anchor) expect(markdownHeadings(readFileSync(resolved, "utf8")).map(headingAnchor), `${relative(RUNBOOKS, file)} -> ${target}`).toContain(anchor);
      }
    }
  });

  it("troubleshooting covers the failure modes with the signal that shows each", () => {
    const text = readRepoFile("docs", "runbooks", "troubleshooting.md");
    const sections = text.split(/^## /m).slice(1);
    const titles = sections.map((s) => s.split("\n")[0]!);
    expect(titles).toEqual(
      expect.arrayContaining(["Database down", "NATS down", "Vehicles not connecting", "Commands timing out", "401 and 429 errors"]),
    );
    for (const section of sections) {
      const title = section.split("\n")[0]!;
      expect(section, `${title}: how it shows`).toMatch(/\*\*Shows as:\*\*/);
      expect(section, `${title}: a metric or a command`).toMatch(/`[a-z_]+_(total|active|open)`|```sh/);
    }
  });

  it("deployment covers embedded, compose and Kubernetes, each with verification and rollback", () => {
    const text = readRepoFile("docs", "runbooks", "deployment.md");
    const sections = text.split(/^## /m).slice(1);
    expect(sections.map((s) => s.split("\n")[0])).toEqual(["Embedded: `npm start`", "Compose: `docker compose up`", "Kubernetes: `deploy/`"]);
    for (const s of sections) {
      expect(s, s.split("\n")[0]).toMatch(/\*\*Verify\*\*/);
      expect(s, s.split("\n")[0]).toMatch(/\*\*(Roll back|Upgrade \/ roll back)\*\*/);
    }
  });

  it("disaster recovery uses the scripts that exist, with RPO and RTO", () => {
    const text = readRepoFile("docs", "runbooks", "disaster_recovery.md");
    for (const script of ["scripts/backup.sh", "scripts/restore.sh"]) {
      expect(text).toContain(script);
      expect(existsSync(repoPath(script))).toBe(true);
    }
    expect(text).toMatch(/\*\*RPO\*\*/);
    expect(text).toMatch(/\*\*RTO\*\*/);
  });
});
