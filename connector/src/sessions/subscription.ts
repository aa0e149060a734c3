import type { BusMessage, BusSubscription } from "@sovd/platform";
import type { ConnectorMetrics } from "../metrics.js";
import type { VehicleSession } from "./session.js";
import type { SessionActivity } from "./session-activity.js";

/**
 * Hands each message of one of a session's subscriptions to `handleMessage`, one at a time
 * and in order, until the subscription ends. Shutdown waits for each handling (`activity`).
 * A failed handling is counted as a database error (the handlers write) and logged, and the
 * next message is taken; a failed subscription is counted as a bus error.
 */
export function handleSubscription(
  deps: { readonly metrics: ConnectorMetrics; readonly activity: SessionActivity },
  session: VehicleSession,
  subscription: BusSubscription,
  handleMessage: (message: BusMessage) => Promise<void>,
): void {
  void (async () => {
    try {
      for await (const message of subscription) {
        const handled = handleMessage(message).catch((err: unknown) => {
          deps.metrics.databaseErrors.inc();
          session.logger.error({ err, subject: message.subject }, "bus message handling failed");
        });
        deps.activity.shutdownAwaits(handled);
        await handled;
      }
    } catch (err) {
      deps.metrics.busErrors.inc();
      session.logger.error({ err }, "subscription failed");
    }
  })();
}
