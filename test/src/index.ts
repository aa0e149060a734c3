/**
 * The test kit: startStack() (or useStack() for one stack per file) and the small helpers it
 * is made of, for integration, browser and ops tests.
 */
export * from "./auth-server.js";
export * from "./calls.js";
export * from "./fake-connector.js";
export * from "./fake-gateway.js";
export * from "./raw-vehicle.js";
export * from "./role-matrix.js";
export * from "./secrets.js";
export * from "./seed-users.js";
export * from "./stack.js";
export * from "./tcp-proxy.js";
export * from "./test-bus.js";
export * from "./test-database.js";
export * from "./test-fleet.js";
export * from "./transports.js";
export * from "./use-stack.js";
export * from "./watch.js";
