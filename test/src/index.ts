export * from "./infra.js";
export * from "./stack.js";
export * from "./watch.js";
export * from "./tcp-proxy.js";
