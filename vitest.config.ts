import { defineConfig } from "vitest/config";

/**
 * One `npm test` for everything. Unit tests sit beside the code (`*\/src/**\/*.test.ts`),
 * web component tests run in jsdom, integration and browser tests live in `test/`.
 * With DATABASE_URL / NATS_URL set the same suites use the real servers; unset, the
 * embedded PGlite and the in-process bus.
 */
export default defineConfig({
  test: {
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["proto/src/**/*.test.ts", "platform/src/**/*.test.ts", "domain/src/**/*.test.ts", "link/src/**/*.test.ts", "vehicle-sim/src/**/*.test.ts", "connector/src/**/*.test.ts", "gateway/src/**/*.test.ts", "scripts/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        extends: true,
        test: {
          name: "web",
          include: ["web/src/**/*.test.tsx"],
          environment: "jsdom",
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          environment: "node",
          // Whole stacks start per test; the first embedded database of a worker also builds
          // the migrated PGlite template. Generous on a loaded 2-core machine, never a wait.
          testTimeout: 60_000,
        },
      },
    ],
  },
});
