import { fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
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
 * (clients) use the same generated types as everything else. The only grpc-js glue.
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

/** A bidi stream as the connector sees it. */
export type VehicleLinkServerStream = grpc.ServerDuplexStream<VehicleMessage, ConnectorMessage>;
/** A bidi stream as a vehicle sees it. */
export type VehicleLinkClientStream = grpc.ClientDuplexStream<VehicleMessage, ConnectorMessage>;

/** Client class for vehicles: `new VehicleLinkClient(target, credentials).connect(metadata)`. */
export interface VehicleLinkClient extends grpc.Client {
  connect(metadata?: grpc.Metadata, options?: grpc.CallOptions): VehicleLinkClientStream;
}

export const VehicleLinkClient = grpc.makeGenericClientConstructor(
  vehicleLinkDefinition,
  "VehicleLinkService",
) as unknown as new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => VehicleLinkClient;

/** Metadata key carrying the vehicle's token: `authorization: Bearer <jwt>`. */
export const VEHICLE_AUTH_METADATA = "authorization";
