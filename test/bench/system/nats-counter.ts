/**
 * Counts the NATS messages the services publish. With a monitoring endpoint (NATS_MONITOR_URL,
 * else http://127.0.0.1:8222 if it answers): the server's in_msgs, server-wide. Without one:
 * wildcard subscribers in the orchestrator that count per subject, so only the subjects of
 * this run's vehicles and commands are counted even on a shared server. They never subscribe
 * a request subject (`sovd.v1.vehicle.*.execute`): a subscriber there would be a responder,
 * and a dispatch to a vehicle nobody holds would wait for a timeout instead of failing at once
 * with no responders. Requests are counted by their replies on `_INBOX.>` instead (a request
 * and its reply: two messages). The subscribers add one delivery per message they count.
 */
import { connect, type NatsConnection } from "nats";

export interface NatsCount {
  readonly method: string;
  /** Messages between start() and stop() that `isOurs` accepts (monitor mode: all of the server's). */
  stop(isOurs: (subject: string) => boolean): Promise<number>;
}

async function varzInMsgs(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${url.replace(/\/$/, "")}/varz`, { signal: AbortSignal.timeout(1000) });
    if (!res.ok) return undefined;
    return ((await res.json()) as { in_msgs?: number }).in_msgs;
  } catch {
    return undefined;
  }
}

export async function startNatsCount(natsUrl: string): Promise<NatsCount> {
  const monitor = process.env.NATS_MONITOR_URL ?? "http://127.0.0.1:8222";
  const before = await varzInMsgs(monitor);
  if (before !== undefined) {
    return {
      method: `server in_msgs (${monitor}/varz, server-wide)`,
      async stop() {
        return ((await varzInMsgs(monitor)) ?? before) - before;
      },
    };
  }
  const nc: NatsConnection = await connect({ servers: natsUrl, name: "bench-counter" });
  const bySubject = new Map<string, number>();
  const count = (subject: string, n = 1): void => void bySubject.set(subject, (bySubject.get(subject) ?? 0) + n);
  for (const subject of ["sovd.v1.command.*.events", "sovd.v1.vehicle.*.presence", "sovd.v1.vehicle.*.session", "sovd.v1.vehicle.*.cancel"]) {
    nc.subscribe(subject, { callback: (_err, msg) => count(msg.subject) });
  }
  // A reply carries the request id header; both messages of the exchange count (request + reply).
  let replies = 0;
  nc.subscribe("_INBOX.>", { callback: () => void replies++ });
  await nc.flush();
  return {
    method: "wildcard subscribers (no monitoring endpoint; dispatch requests counted by their replies)",
    async stop(isOurs) {
      await nc.flush();
      await nc.close();
      let n = 2 * replies;
      for (const [subject, c] of bySubject) if (isOurs(subject)) n += c;
      return n;
    },
  };
}
