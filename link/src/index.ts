/**
 * Both ends of the vehicle link (`sovd.v1.VehicleLinkService/Connect`, a gRPC bidi stream):
 * the connector's server, the vehicles' client, how a stream ends (LinkError) and the vehicle
 * tokens a stream is opened with. The only workspace that imports `@grpc/grpc-js`; what it
 * exports has no grpc-js type in it (architecture §1 "Workspaces and dependencies").
 */
export { startVehicleLinkServer, type VehicleLink, type VehicleLinkServer } from "./server.js";
export {
  connectVehicleLink,
  createVehicleLinkChannel,
  type ConnectorLink,
  type ConnectorLinkOptions,
  type VehicleLinkChannel,
  type VehicleLinkChannelOptions,
} from "./client.js";
export { LinkError, grpcStatusName, type LinkErrorCode } from "./link-error.js";
export { VEHICLE_AUTH_METADATA } from "./definition.js";
export {
  DEVELOPMENT_VEHICLE_SECRET,
  VEHICLE_TOKEN_AUDIENCE,
  VEHICLE_TOKEN_ISSUER,
  signVehicleToken,
  verifyVehicleToken,
} from "./vehicle-token.js";
