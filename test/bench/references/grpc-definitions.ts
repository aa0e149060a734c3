/**
 * The bare grpc-js service of the references: raw bytes in and out (no protobuf, no project
 * code), so what is measured is grpc-js and HTTP/2 alone.
 */
import * as grpc from "@grpc/grpc-js";

const raw = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({
  path,
  requestStream: true,
  responseStream: true,
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
});

/** Bidi methods: PingPong echoes, OneWay counts and answers the count at the end, Link says welcome once and then idles. */
export const REFERENCE_METHODS = {
  pingPong: raw("/bench.Reference/PingPong"),
  oneWay: raw("/bench.Reference/OneWay"),
  link: raw("/bench.Reference/Link"),
} as const;

export const REFERENCE_GRPC_SERVICE: grpc.ServiceDefinition = REFERENCE_METHODS;

/** A message of about the size of a vehicle's chunk (200 bytes). */
export const MESSAGE = Buffer.alloc(200, 0x78);

/** Binds a grpc-js server on a free loopback port. */
export function bindInsecure(server: grpc.Server): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

/** A client of its own connection (no process-wide subchannel sharing), as each real vehicle is. */
export function ownConnectionClient(address: string): grpc.Client {
  return new grpc.Client(address, grpc.credentials.createInsecure(), { "grpc.use_local_subchannel_pool": 1 });
}

export type RawStream = grpc.ClientDuplexStream<Buffer, Buffer>;

export function openStream(client: grpc.Client, method: grpc.MethodDefinition<Buffer, Buffer>): RawStream {
  return client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize);
}
