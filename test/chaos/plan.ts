/** How big each part of a chaos run is: `--ci` (inside `npm test`), `--quick`, or the full run. */
export type Mode = "ci" | "quick" | "full";

export interface ChaosPlan {
  readonly mode: Mode;
  readonly vehicles: number;
  readonly gateways: number;
  readonly connectors: number;
  readonly inFlight: number;
  readonly commandTimeoutMs: number;
  readonly sweepIntervalMs: number;
  readonly chunkIntervalMs: number;
  /** Load before the fault is injected, and after it is over. */
  readonly beforeMs: number;
  readonly afterMs: number;
  readonly connectorDownMs: number;
  readonly natsDownMs: number;
  readonly postgresDownMs: number;
  /** Commands of each of the two seeded fault-rate runs. */
  readonly faultRateCommands: number;
  readonly hostileRequests: number;
  /** Vehicle streams opened with a token and no Hello. */
  readonly silentStreams: number;
  /** How long after opening them the silent streams must be closed (3 heartbeat intervals of 2 s, and a margin). */
  readonly silentLimitMs: number;
  readonly soakMs: number;
  readonly soakPerSecond: number;
  readonly rssSampleMs: number;
  readonly recoveryLimitMs: number;
  /** How long a watcher follows past its command's deadline before it counts as not ended. */
  readonly watchGraceMs: number;
  /** BREAKER_COOLDOWN_MS of the gateways; undefined keeps the default (30 s). */
  readonly breakerCooldownMs: number | undefined;
}

export function makePlan(mode: Mode, soakMinutes: number | undefined): ChaosPlan {
  const common = { gateways: 2, connectors: 2 };
  if (mode === "ci")
    return {
      ...common,
      mode,
      vehicles: 8,
      inFlight: 6,
      commandTimeoutMs: 4000,
      sweepIntervalMs: 500,
      chunkIntervalMs: 40,
      beforeMs: 800,
      afterMs: 1000,
      connectorDownMs: 1500,
      natsDownMs: 2500,
      postgresDownMs: 2500,
      faultRateCommands: 40,
      hostileRequests: 3000,
      silentStreams: 20,
      silentLimitMs: 8000,
      soakMs: (soakMinutes ?? 1 / 6) * 60_000,
      soakPerSecond: 4,
      rssSampleMs: 1000,
      recoveryLimitMs: 30_000,
      watchGraceMs: 10_000,
      breakerCooldownMs: 2000,
    };
  if (mode === "quick")
    return {
      ...common,
      mode,
      vehicles: 16,
      inFlight: 12,
      commandTimeoutMs: 5000,
      sweepIntervalMs: 1000,
      chunkIntervalMs: 50,
      beforeMs: 2000,
      afterMs: 4000,
      connectorDownMs: 3000,
      natsDownMs: 5000,
      postgresDownMs: 5000,
      faultRateCommands: 200,
      hostileRequests: 10_000,
      silentStreams: 100,
      silentLimitMs: 12_000,
      soakMs: (soakMinutes ?? 0.5) * 60_000,
      soakPerSecond: 5,
      rssSampleMs: 2000,
      recoveryLimitMs: 60_000,
      watchGraceMs: 15_000,
      breakerCooldownMs: 5000,
    };
  return {
    ...common,
    mode,
    vehicles: 40,
    inFlight: 32,
    commandTimeoutMs: 10_000,
    sweepIntervalMs: 1000,
    chunkIntervalMs: 100,
    beforeMs: 5000,
    afterMs: 10_000,
    connectorDownMs: 5000,
    natsDownMs: 5000,
    postgresDownMs: 8000,
    faultRateCommands: 2000,
    hostileRequests: 20_000,
    silentStreams: 500,
    silentLimitMs: 12_000,
    soakMs: (soakMinutes ?? 10) * 60_000,
    soakPerSecond: 5,
    rssSampleMs: 10_000,
    recoveryLimitMs: 90_000,
    watchGraceMs: 20_000,
    breakerCooldownMs: undefined,
  };
}
