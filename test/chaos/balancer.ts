/**
 * A round-robin TCP balancer in front of the connectors, as a deployment puts a load
 * balancer in front of its connector replicas: the fleet dials one address, and a vehicle
 * whose connector died dials again and lands on a live one. An upstream that refuses the
 * connection is skipped for the next one.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

export interface Balancer {
  /** `host:port` the fleet dials. */
  readonly address: string;
  /** The connectors' gRPC ports it forwards to. */
  setUpstreams(ports: readonly number[]): void;
  close(): Promise<void>;
}

export async function startBalancer(initial: readonly number[]): Promise<Balancer> {
  let upstreams = [...initial];
  let next = 0;
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  };
  const dial = (client: Socket, tries: number): void => {
    if (tries >= upstreams.length || client.destroyed) return void client.destroy();
    const port = upstreams[next++ % upstreams.length]!;
    const upstream = connect(port, "127.0.0.1");
    track(upstream);
    let connected = false;
    upstream.once("connect", () => {
      connected = true;
      client.once("close", () => upstream.destroy());
      upstream.once("close", () => client.destroy());
      client.pipe(upstream).pipe(client);
      client.resume();
    });
    upstream.on("error", () => {
      if (connected) client.destroy();
      else dial(client, tries + 1);
    });
  };
  const server: Server = createServer({ pauseOnConnect: true }, (client) => {
    track(client);
    client.on("error", () => undefined);
    dial(client, 0);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    setUpstreams(ports) {
      upstreams = [...ports];
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
