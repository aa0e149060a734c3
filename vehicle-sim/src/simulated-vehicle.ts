import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import {
  grpcStatusName,
  LinkError,
  signVehicleToken,
  type ConnectorLink,
  type LinkErrorCode,
  type VehicleLinkChannel,
} from "@sovd/link";
import { fleetIdentity, seededRandom, type Logger, type Random, type VehicleIdentity } from "@sovd/platform";
import { VehicleMessageSchema, type ConnectorMessage, type VehicleMessage } from "@sovd/proto";
import { backoffDelay, type BackoffPolicy } from "./backoff.js";
import { CommandRunner, type DelayRange } from "./command-runner.js";
import type { HeartbeatScheduler } from "./heartbeat-scheduler.js";
import type { Misbehaviour } from "./misbehaviour.js";
import { VehicleState } from "./vehicle-state.js";

/**
 * Where a vehicle's link stands. `connecting`: dialled, Hello sent, no Welcome yet;
 * `online`: Welcome received; `waiting`: backing off before the next dial; `offline`: taken
 * offline on purpose (`disconnect()`), no automatic reconnect; `closed`: stopped for good.
 */
export type LinkState = "idle" | "connecting" | "online" | "waiting" | "offline" | "closed";

/** A vehicle was asked to wait for its link and the link did not come up in time (or it was closed). */
export class VehicleNotOnlineError extends Error {
  override readonly name = "VehicleNotOnlineError";
}

/** How one simulated vehicle behaves; the fleet builds it from FleetConfig. */
export interface SimulatedVehicleOptions {
  /** Fleet index: identity (id, VIN, make, model, year) comes from fleetIdentity(index). */
  readonly index: number;
  /** Fleet key the vehicle's token is signed with. */
  readonly tokenSecret: string;
  readonly chunkIntervalMs: number;
  readonly networkDelayMs: DelayRange;
  readonly reconnect: BackoffPolicy;
  readonly helloTimeoutMs: number;
  readonly softwareVersion: string;
  /** Jitter, delays and sensor values; seeded from the index when absent. */
  readonly random?: Random;
}

/** What a vehicle is given: the channel it dials on (shared), a logger and the fleet's heartbeat timer. */
export interface SimulatedVehicleDeps {
  readonly channel: VehicleLinkChannel;
  readonly logger: Logger;
  readonly heartbeats: HeartbeatScheduler;
}

/** One simulated vehicle as tests, demos and the fleet drive it. */
export interface SimulatedVehicle {
  readonly identity: VehicleIdentity;
  /** Its diagnostic state (stored DTCs, live values). */
  readonly state: VehicleState;
  readonly linkState: LinkState;
  /** The connector's session id from the last Welcome; undefined before the first. */
  readonly sessionId: string | undefined;
  /** How many Welcomes this vehicle has received: 2 after one successful reconnect. */
  readonly sessions: number;
  /** Commands being answered right now. */
  readonly inFlight: number;
  /** Why the last link ended or the last dial failed (status code and details), for fleet status logs. */
  readonly lastError: string | undefined;
  /** Dials the connector (once; later dials are the vehicle's own business). */
  start(): void;
  /** Sets how the vehicle answers the next Execute messages (see MISBEHAVIOURS). */
  misbehave(mode: Misbehaviour): void;
  /** Drops the link and stays offline until `reconnect()`. */
  disconnect(): void;
  /** Dials again now (dropping the current link if there is one), with a fresh backoff. */
  reconnect(): void;
  /** Resolves once the vehicle is online; rejects with VehicleNotOnlineError after timeoutMs. */
  waitUntilOnline(timeoutMs: number): Promise<void>;
  /** Calls listener on every link state change; returns the unsubscribe function. */
  onStateChange(listener: (state: LinkState) => void): () => void;
  /** Stops for good: link dropped, timers cleared. */
  close(): Promise<void>;
}

/** How a link ends when the connector means "you may not connect like this": retrying fast will not help. */
const REFUSED = new Set<LinkErrorCode>(["unauthenticated", "permission_denied"]);

/** Creates one vehicle; it does nothing until `start()`. */
export function createSimulatedVehicle(options: SimulatedVehicleOptions, deps: SimulatedVehicleDeps): SimulatedVehicle {
  return new Vehicle(options, deps);
}

class Vehicle implements SimulatedVehicle {
  readonly identity: VehicleIdentity;
  readonly state: VehicleState;
  linkState: LinkState = "idle";
  sessionId: string | undefined;
  sessions = 0;
  lastError: string | undefined;
  private readonly random: Random;
  private readonly log: Logger;
  private readonly runner: CommandRunner;
  private readonly listeners = new Set<(state: LinkState) => void>();
  private link: ConnectorLink | undefined;
  private helloTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopHeartbeat: (() => void) | undefined;
  private attempt = 0;
  private dialNumber = 0;

  constructor(
    private readonly opts: SimulatedVehicleOptions,
    private readonly deps: SimulatedVehicleDeps,
  ) {
    this.identity = fleetIdentity(opts.index);
    this.random = opts.random ?? seededRandom(opts.index + 1);
    this.state = new VehicleState(this.identity, this.random);
    this.log = deps.logger.child({ vehicleId: this.identity.vehicleId });
    this.runner = new CommandRunner({
      state: this.state,
      chunkIntervalMs: opts.chunkIntervalMs,
      networkDelayMs: opts.networkDelayMs,
      random: this.random,
      logger: this.log,
      send: (message) => this.send(message),
      dropLink: (reason) => this.dropLink(reason),
    });
  }

  get inFlight(): number {
    return this.runner.inFlight;
  }

  start(): void {
    if (this.linkState !== "idle") return;
    void this.dial();
  }

  misbehave(mode: Misbehaviour): void {
    this.runner.misbehaviour = mode;
    this.log.info({ misbehaviour: mode }, "misbehaviour set");
  }

  disconnect(): void {
    if (this.linkState === "closed") return;
    clearTimeout(this.reconnectTimer);
    this.detach()?.close();
    this.setState("offline");
    this.log.info("taken offline");
  }

  reconnect(): void {
    if (this.linkState === "closed") return;
    clearTimeout(this.reconnectTimer);
    this.detach()?.close();
    this.attempt = 0;
    void this.dial();
  }

  waitUntilOnline(timeoutMs: number): Promise<void> {
    if (this.linkState === "online") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new VehicleNotOnlineError(`vehicle ${this.identity.vehicleId} not online after ${timeoutMs} ms (${this.linkState})`));
      }, timeoutMs);
      const off = this.onStateChange((state) => {
        if (state !== "online" && state !== "closed") return;
        clearTimeout(timer);
        off();
        if (state === "online") resolve();
        else reject(new VehicleNotOnlineError(`vehicle ${this.identity.vehicleId} was closed`));
      });
    });
  }

  onStateChange(listener: (state: LinkState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    if (this.linkState === "closed") return Promise.resolve();
    clearTimeout(this.reconnectTimer);
    this.detach()?.close();
    this.setState("closed");
    this.listeners.clear();
    return Promise.resolve();
  }

  private setState(state: LinkState): void {
    if (this.linkState === state) return;
    this.linkState = state;
    for (const listener of [...this.listeners]) listener(state);
  }

  private async dial(): Promise<void> {
    const dial = ++this.dialNumber;
    this.setState("connecting");
    let token: string;
    try {
      // Minted per dial, so a long-running fleet never presents an expired token.
      token = await signVehicleToken(this.identity.vehicleId, this.opts.tokenSecret);
    } catch (err) {
      this.log.error({ err }, "cannot sign the vehicle token");
      this.scheduleReconnect(this.opts.reconnect.maxMs);
      return;
    }
    // disconnect(), reconnect() or close() ran while the token was being signed.
    if (dial !== this.dialNumber || this.linkState !== "connecting") return;

    const link = this.deps.channel.connect({ token });
    this.link = link;
    this.helloTimer = setTimeout(() => {
      if (link !== this.link) return;
      this.log.warn({ helloTimeoutMs: this.opts.helloTimeoutMs }, "no Welcome from the connector; dialling again");
      this.detach()?.close();
      this.scheduleReconnect(this.nextBackoff());
    }, this.opts.helloTimeoutMs);

    const { vehicleId, vin, make, model, year } = this.identity;
    link.send(
      create(VehicleMessageSchema, {
        kind: { case: "hello", value: { vehicleId, vin, make, model, year, softwareVersion: this.opts.softwareVersion } },
      }),
    );
    void this.read(link);
  }

  /** Reads the link until it is over; every end is handled once, from how the stream ended. */
  private async read(link: ConnectorLink): Promise<void> {
    try {
      for await (const message of link.messages) this.onMessage(link, message);
    } catch (err) {
      if (!(err instanceof LinkError)) throw err;
      this.onLinkEnd(link, err);
      return;
    }
    this.onLinkEnd(link, undefined);
  }

  private onMessage(link: ConnectorLink, message: ConnectorMessage): void {
    if (link !== this.link) return;
    switch (message.kind.case) {
      case "welcome": {
        if (this.linkState !== "connecting") {
          this.log.warn("unexpected second Welcome ignored");
          return;
        }
        clearTimeout(this.helloTimer);
        const { sessionId, heartbeatIntervalMs } = message.kind.value;
        this.sessionId = sessionId;
        this.sessions += 1;
        this.attempt = 0;
        this.lastError = undefined;
        // An interval of 0 means the connector wants no heartbeats.
        if (heartbeatIntervalMs > 0) {
          this.stopHeartbeat = this.deps.heartbeats.register(heartbeatIntervalMs, () =>
            this.send(create(VehicleMessageSchema, { kind: { case: "heartbeat", value: { sentAt: timestampNow() } } })),
          );
        }
        this.log.info({ sessionId, heartbeatIntervalMs }, "online");
        this.setState("online");
        return;
      }
      case "execute":
        this.runner.execute(message.kind.value);
        return;
      case "cancel":
        this.runner.cancel(message.kind.value.commandId);
        return;
      default:
        this.log.debug("unknown connector message ignored");
    }
  }

  /** `error` undefined: the connector ended the stream with OK. */
  private onLinkEnd(link: ConnectorLink, error: LinkError | undefined): void {
    // A link this vehicle already let go of (dropped, replaced, closed) ends quietly.
    if (link !== this.link) return;
    const wasOnline = this.linkState === "online";
    this.detach();
    // gRPC status names in the logs, as operators know them from gRPC tooling.
    const details = error
      ? { code: grpcStatusName(error.code), details: error.message }
      : { code: "OK", details: "the connector ended the stream" };
    this.lastError = `${details.code}: ${details.details}`;
    if (error && REFUSED.has(error.code)) {
      // A bad token or a hello the connector will not take: retrying fast cannot help.
      this.log.error({ ...details, retryInMs: this.opts.reconnect.maxMs }, "connector refused the vehicle");
      this.attempt = Math.max(this.attempt, 31);
      this.scheduleReconnect(this.opts.reconnect.maxMs);
      return;
    }
    const delay = this.nextBackoff();
    // A lost link is news; failed dials while the connector is away are summed up by the fleet's status line.
    if (wasOnline) this.log.warn({ ...details, retryInMs: delay }, "link lost");
    else this.log.debug({ ...details, retryInMs: delay }, "cannot reach the connector");
    this.scheduleReconnect(delay);
  }

  /** "drop-link": the vehicle lets the stream go, as a car driving into a tunnel would. */
  private dropLink(reason: string): void {
    const link = this.detach();
    if (!link) return;
    this.log.warn({ reason }, "dropping the link");
    link.close();
    this.scheduleReconnect(this.nextBackoff());
  }

  private nextBackoff(): number {
    return backoffDelay(this.opts.reconnect, this.attempt++, this.random);
  }

  private scheduleReconnect(delayMs: number): void {
    if (this.linkState === "closed" || this.linkState === "offline") return;
    this.setState("waiting");
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.dial(), delayMs);
  }

  /** Lets go of the current link: no more writes, heartbeats or chunks on it. */
  private detach(): ConnectorLink | undefined {
    const link = this.link;
    this.link = undefined;
    this.dialNumber += 1;
    clearTimeout(this.helloTimer);
    this.stopHeartbeat?.();
    this.stopHeartbeat = undefined;
    this.runner.stopAll();
    return link;
  }

  private send(message: VehicleMessage): void {
    this.link?.send(message);
  }
}
