/**
 * The contracts of the system: generated protobuf-es messages and services (`sovd.v1`),
 * NATS subject names, and the command catalog. Every service and the web app import this
 * one workspace, so no two parts can drift.
 */
export * from "./gen/sovd/v1/common_pb.js";
export * from "./gen/sovd/v1/auth_pb.js";
export * from "./gen/sovd/v1/vehicle_pb.js";
export * from "./gen/sovd/v1/command_pb.js";
export * from "./gen/sovd/v1/audit_pb.js";
export * from "./gen/sovd/v1/vehicle_link_pb.js";
export * from "./gen/sovd/v1/bus_pb.js";
export * from "./subjects.js";
export * from "./catalog.js";
export * from "./command-types.js";
export * from "./status.js";
