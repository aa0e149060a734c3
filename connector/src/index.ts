/**
 * The connector (architecture §1 "Workspaces and dependencies"): holds vehicle sessions over
 * gRPC and runs the command lifecycle. `startConnector` is the one door main.ts, `npm start`
 * and tests use.
 */
export { startConnector, type Connector, type ConnectorDeps } from "./connector.js";
export {
  loadConnectorConfig,
  loadConnectorProcessConfig,
  seedFromText,
  type ConnectorConfig,
  type ConnectorProcessConfig,
  type FaultRates,
} from "./config.js";
export { createFaultInjector, corruptPayload, type FaultDecision, type FaultInjector } from "./faults.js";
