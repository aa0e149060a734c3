// Lint: typescript-eslint's recommended type-aware rules, warnings count as errors
// (`npm run lint` passes --max-warnings 0). Generated code is excluded.
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
    // The one workspace that wraps grpc-js.
    files: ["link/**"],
    rules: { "no-restricted-imports": "off" },
  },
);
