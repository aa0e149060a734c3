import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type * as grpc from "@grpc/grpc-js";
import {
  ConnectorMessageSchema,
  VehicleLinkService,
  VehicleMessageSchema,
  type ConnectorMessage,
  type VehicleMessage,
} from "@sovd/proto";

/**
 * The grpc-js service definition of `sovd.v1.VehicleLinkService`, built from the
 * protobuf-es schema (toBinary/fromBinary), so the connector (server) and the vehicles
 * (clients) use the same generated types as everything else. Internal to this workspace:
 * the server and the client wrap it, nothing outside sees a grpc-js type.
 */
export const vehicleLinkDefinition = {
  connect: {
    path: `/${VehicleLinkService.typeName}/${VehicleLinkService.method.connect.name}`,
    requestStream: true,
    responseStream: true,
    originalName: "Connect",
    requestSerialize: (m: VehicleMessage): Buffer => Buffer.from(toBinary(VehicleMessageSchema, m)),
    requestDeserialize: (b: Buffer): VehicleMessage => fromBinary(VehicleMessageSchema, b),
    responseSerialize: (m: ConnectorMessage): Buffer => Buffer.from(toBinary(ConnectorMessageSchema, m)),
    responseDeserialize: (b: Buffer): ConnectorMessage => fromBinary(ConnectorMessageSchema, b),
  },
} satisfies grpc.ServiceDefinition;

/** A bidi stream as the connector sees it (grpc-js); server.ts turns it into a VehicleLink. */
export type VehicleLinkServerStream = grpc.ServerDuplexStream<VehicleMessage, ConnectorMessage>;

/**
 * Metadata key carrying the vehicle's token: `authorization: Bearer <jwt>`. Exported so the
 * connector can name it in the error a vehicle without a token reads.
 */
export const VEHICLE_AUTH_METADATA = "authorization";
