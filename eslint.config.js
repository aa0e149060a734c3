// Lint: typescript-eslint's recommended type-aware rules, warnings count as errors
// (`npm run lint` passes --max-warnings 0). Generated code is excluded. Gateway folders are
// imported only through their index.ts.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/node_modules/**", "**/dist/**", "proto/src/gen/**", ".data/**", "web/dist/**", "eslint.config.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: false }],
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
      // gRPC stays behind @sovd/link: the connector, the simulator and the tests talk to the
      // vehicle link through its AsyncIterable + AbortSignal API, never grpc-js itself.
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "@grpc/grpc-js", message: "Only link/ imports grpc-js; use @sovd/link (raw frames: ConnectorLink.sendFrame)." }],
          patterns: [{ group: ["@grpc/grpc-js/*"], message: "Only link/ imports grpc-js; use @sovd/link." }],
        },
      ],
    },
  },
  {
    // The one workspace that wraps grpc-js, and the bench's bare grpc-js references (measured
    // without any project code on purpose).
    files: ["link/**", "test/bench/references/**"],
    rules: { "no-restricted-imports": "off" },
  },
  {
    // A gateway folder is used through its index.ts: what it exports there is its interface, the
    // rest may change without its importers noticing. Inside a folder, files import each other
    // directly. commands/ has no index.ts yet, so imports of it are not checked.
    files: ["gateway/src/*/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^\\.\\./(?!commands/)[^/]+/(?!index\\.js$)", message: "Import another gateway folder through its index.js." }] },
      ],
    },
  },
  {
    files: ["gateway/src/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^\\./(?!commands/)[^/]+/(?!index\\.js$)", message: "Import a gateway folder through its index.js." }] },
      ],
    },
  },
);
