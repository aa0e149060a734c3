import { useEffect, useState } from "react";
import { CommandStatus, isTerminalStatus } from "@sovd/proto";
import { useApi } from "../api/api-context.js";
import { describeRpcError } from "../api/errors.js";
import { useVehicle } from "../api/use-vehicle.js";
import { StatusBadge } from "../components/status-badge.js";
import { hrefs } from "../lib/router.js";
import { formatDateTime, formatDuration, timestampMs, toDate } from "../lib/time.js";
import { useNow } from "../lib/use-now.js";
import { permissionsOf, useUser } from "../session/session-context.js";
import { ChunkTimeline } from "./chunk-timeline.js";
import { DtcTable } from "./dtc-table.js";
import { describeFailure } from "./failure-wording.js";
import { SampleChart } from "./sample-chart.js";
import { useCommandTypes } from "./use-command-types.js";
import { useCommandWatch } from "./use-command-watch.js";
import type { StreamState } from "./watch-state.js";

const STREAM_TEXT: Record<StreamState, string> = {
  loading: "Loading…",
  live: "Live",
  reconnecting: "Connection lost, reconnecting…",
  ended: "Finished",
  error: "Not available",
};

/**
 * One command, live or from history: what was asked of which vehicle, its status, the
 * chunks as they arrive, the results as a table or chart, and a failure in plain words.
 * Engineers and admins can cancel it while it runs.
 */
export function CommandPage({ commandId }: { commandId: string }) {
  const api = useApi();
  const user = useUser();
  const { state, merge } = useCommandWatch(commandId);
  const command = state.command;
  const vehicle = useVehicle(command?.vehicleId);
  const types = useCommandTypes();
  const now = useNow(15_000);
  const [cancelling, setCancelling] = useState(false);
  const [cancelError, setCancelError] = useState<string | undefined>(undefined);

  useEffect(() => {
    if (command) document.title = `${command.commandName} · SOVD Fleet Gateway`;
  }, [command]);

  if (state.stream === "error" && !command) {
    return (
      <section className="page">
        <h1>Command</h1>
        <p role="alert" className="alert alert-bad">
          {state.streamError}
        </p>
        <p>
          <a href={hrefs.history()}>Back to history</a>
        </p>
      </section>
    );
  }
  if (!command) {
    return (
      <section className="page" aria-busy="true">
        <h1>Command</h1>
        <p className="muted">Loading…</p>
      </section>
    );
  }

  const submittedAtMs = command.submittedAt ? timestampMs(command.submittedAt) : undefined;
  const terminal = isTerminalStatus(state.status);
  const canCancel = permissionsOf(user.role).canSubmit && !terminal;
  // Once terminal nothing more can arrive, even while the stream is still closing.
  const stream: StreamState = terminal && state.stream === "live" ? "ended" : state.stream;
  const type = types.data?.find((t) => t.name === command.commandName);
  // The deadline the command really had (a per-command override included).
  const deadlineMs = command.deadlineAt && submittedAtMs !== undefined ? timestampMs(command.deadlineAt) - submittedAtMs : undefined;
  const failure =
    state.status === CommandStatus.FAILED || (state.errorMessage && state.status === CommandStatus.CANCELLED)
      ? describeFailure({
          errorMessage: state.errorMessage,
          phase: state.phase,
          configuredTimeoutMs: state.failure?.configuredTimeoutMs || deadlineMs,
          catalogTimeoutMs: type?.defaultTimeoutMs,
          vehicle,
          now,
        })
      : undefined;
  const params = Object.entries(command.params ?? {});

  const cancel = async (): Promise<void> => {
    setCancelling(true);
    setCancelError(undefined);
    try {
      const res = await api.commands.cancelCommand({ commandId });
      if (res.command) merge(res.command);
    } catch (err) {
      setCancelError(describeRpcError(err));
    } finally {
      setCancelling(false);
    }
  };

  return (
    <section className="page command-page">
      <header className="page-header">
        <div>
          <h1>
            {command.commandName} <StatusBadge status={state.status} />
          </h1>
          <p className="muted">
            on {vehicle ? <strong>{vehicle.vin}</strong> : <code>{command.vehicleId}</code>}
            {vehicle ? ` · ${vehicle.make} ${vehicle.model}` : ""}
          </p>
        </div>
        <div className="actions">
          <span className={`stream stream-${stream}`} role="status">
            {STREAM_TEXT[stream]}
          </span>
          {canCancel ? (
            <button type="button" className="btn btn-danger" onClick={() => void cancel()} disabled={cancelling}>
              {cancelling ? "Cancelling…" : "Cancel command"}
            </button>
          ) : null}
          <a className="btn" href={hrefs.run(command.vehicleId, command.commandName)}>
            Run again
          </a>
        </div>
      </header>

      {cancelError ? (
        <p role="alert" className="alert alert-bad">
          {cancelError}
        </p>
      ) : null}
      {state.streamError ? (
        <p role="alert" className="alert alert-warn">
          {state.streamError}
        </p>
      ) : null}
      {failure ? (
        <div role="alert" className={`alert ${state.status === CommandStatus.CANCELLED ? "alert-warn" : "alert-bad"}`} data-testid="failure">
          <p className="alert-title">{failure.headline}</p>
          {failure.phase ? <p>{failure.phase}</p> : null}
          {state.errorMessage ? <p className="muted small">Gateway reported: “{state.errorMessage}”</p> : null}
        </div>
      ) : null}

      <dl className="facts">
        <div>
          <dt>Submitted</dt>
          <dd>{submittedAtMs === undefined ? "–" : formatDateTime(new Date(submittedAtMs))}</dd>
        </div>
        <div>
          <dt>Ended</dt>
          <dd>{state.completedAt ? formatDateTime(toDate(state.completedAt)!) : "–"}</dd>
        </div>
        <div>
          <dt>Parameters</dt>
          <dd>
            {params.length === 0
              ? "none"
              : params.map(([k, v]) => (
                  <code key={k} className="param">
                    {k}={String(v)}
                  </code>
                ))}
          </dd>
        </div>
        <div>
          <dt>Timeout</dt>
          <dd>
            {deadlineMs !== undefined
              ? formatDuration(deadlineMs)
              : type
                ? formatDuration(type.defaultTimeoutMs)
                : "–"}
          </dd>
        </div>
        <div>
          <dt>Request id</dt>
          <dd>
            <code>{command.correlationId || "–"}</code>
          </dd>
        </div>
      </dl>

      <div className="grid-2">
        <section className="card" aria-labelledby="results-heading">
          <h2 id="results-heading">Result</h2>
          {command.commandName === "ReadDTC" ? <DtcTable responses={state.responses} ended={terminal} /> : null}
          {command.commandName === "ReadDataByID" ? <SampleChart responses={state.responses} ended={terminal} /> : null}
          {command.commandName !== "ReadDTC" && command.commandName !== "ReadDataByID" ? (
            <p>{state.responses.length ? "See the chunks." : terminal ? "No answer." : "Waiting for the vehicle…"}</p>
          ) : null}
        </section>
        <section className="card" aria-labelledby="timeline-heading">
          <h2 id="timeline-heading">Chunks</h2>
          <ChunkTimeline responses={state.responses} submittedAtMs={submittedAtMs} ended={terminal} />
        </section>
      </div>
    </section>
  );
}
