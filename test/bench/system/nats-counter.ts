/**
 * Counts the NATS messages the services publish. With a monitoring endpoint (NATS_MONITOR_URL,
 * else http://127.0.0.1:8222 if it answers): the server's in_msgs, server-wide. Without one:
 * a `sovd.>` wildcard subscriber in the orchestrator that counts per subject, so only the
 * subjects of this run's vehicles and commands are counted even on a shared server; request
 * replies (`_INBOX.*`) are not seen that way, and the subscriber adds one delivery per message.
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
  nc.subscribe("sovd.>", { callback: (_err, msg) => bySubject.set(msg.subject, (bySubject.get(msg.subject) ?? 0) + 1) });
  await nc.flush();
  return {
    method: "sovd.> subscriber (no monitoring endpoint; request replies not counted)",
    async stop(isOurs) {
      await nc.flush();
      await nc.close();
      let n = 0;
      for (const [subject, count] of bySubject) if (isOurs(subject)) n += count;
      return n;
    },
  };
}
