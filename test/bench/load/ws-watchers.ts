/**
 * Fan-out watchers over the WebSocket bridge: each gets a single-use stream ticket
 * (AuthService.CreateStreamTicket) and connects to /ws/responses/{id}?ticket=..., as a
 * non-browser client should (no token in the URL). The bridge sends responses and the
 * terminal status; every message is live.
 */
import { WebSocket } from "ws";
import type { GatewaySession } from "./session.js";
import { WatchTally } from "./watch-tally.js";

/** Tickets are made this many at a time, so 1,000 watchers do not queue 1,000 calls at once. */
const TICKET_BATCH = 50;

export async function openWsWatchers(s: GatewaySession, commandId: string, count: number): Promise<WatchTally> {
  const sockets: WebSocket[] = [];
  const tally = new WatchTally(count, () => {
    for (const ws of sockets) ws.terminate();
  });
  const base = s.url.replace(/^http/, "ws");
  for (let i = 0; i < count; i += TICKET_BATCH) {
    const n = Math.min(TICKET_BATCH, count - i);
    const tickets = await Promise.all(Array.from({ length: n }, () => s.auth.createStreamTicket({ commandId }, { headers: s.headers })));
    for (const { ticket } of tickets) {
      const ws = new WebSocket(`${base}/ws/responses/${commandId}?ticket=${encodeURIComponent(ticket)}`, { perMessageDeflate: false });
      let ended = false;
      ws.once("open", () => tally.markOpened());
      ws.on("message", (data) => {
        tally.addEvent();
        const text = data.toString();
        if (text.includes('"event":"status"') || text.includes('"event":"error"')) {
          ended = true;
          if (text.includes('"event":"status"')) tally.done++;
          else tally.failed++;
          ws.close();
        }
      });
      ws.on("error", () => undefined);
      ws.once("close", () => {
        if (!ended) tally.failed++;
      });
      sockets.push(ws);
    }
  }
  return tally;
}
