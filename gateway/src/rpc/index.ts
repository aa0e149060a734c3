/**
 * The gateway's Connect edge: the routes, the domain errors handlers throw and the one
 * mapping to Connect codes, the interceptors every route runs through, and the validators
 * of request fields (which throw those errors).
 */
export {
  NotFoundError,
  InvalidArgumentError,
  FailedPreconditionError,
  UnauthenticatedError,
  PermissionDeniedError,
  ShuttingDownError,
  isDatabaseError,
  sqlState,
  isBusError,
  toConnectError,
} from "./errors.js";
export { createMetricsInterceptor, createErrorInterceptor } from "./interceptors.js";
export { isUuid, requireUuid, optionalUuid, requireString, requireText, optionalText, isPlainText } from "./validate.js";
export { routes, type RpcServices } from "./routes.js";
