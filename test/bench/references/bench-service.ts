/**
 * The service of the bare Connect reference, described at run time from well-known types
 * (no code generation, no project proto): unary `Echo` and server-streaming `Push`, both on
 * google.protobuf.StringValue.
 */
import { create, createFileRegistry } from "@bufbuild/protobuf";
import type { GenService } from "@bufbuild/protobuf/codegenv2";
import { FileDescriptorProtoSchema, file_google_protobuf_wrappers, type StringValueSchema } from "@bufbuild/protobuf/wkt";

const file = create(FileDescriptorProtoSchema, {
  name: "bench/reference.proto",
  package: "bench.reference",
  syntax: "proto3",
  dependency: ["google/protobuf/wrappers.proto"],
  service: [
    {
      name: "ReferenceService",
      method: [
        { name: "Echo", inputType: ".google.protobuf.StringValue", outputType: ".google.protobuf.StringValue" },
        { name: "Push", inputType: ".google.protobuf.StringValue", outputType: ".google.protobuf.StringValue", serverStreaming: true },
      ],
    },
  ],
});

const registry = createFileRegistry(file, (name) => (name === "google/protobuf/wrappers.proto" ? file_google_protobuf_wrappers : undefined));

type Unary = { methodKind: "unary"; input: typeof StringValueSchema; output: typeof StringValueSchema };
type ServerStreaming = { methodKind: "server_streaming"; input: typeof StringValueSchema; output: typeof StringValueSchema };

/** The typed shape code generation would have given (the registry checked the names). */
export const ReferenceService = registry.getService("bench.reference.ReferenceService")! as GenService<{ echo: Unary; push: ServerStreaming }>;

/** A payload of about the size of a command request or event (200 characters). */
export const PAYLOAD = "x".repeat(200);
