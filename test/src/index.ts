export * from "./test-database.js";
export * from "./stack.js";
export * from "./watch.js";
export * from "./tcp-proxy.js";
