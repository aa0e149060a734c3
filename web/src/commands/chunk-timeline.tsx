import type { Response } from "@sovd/proto";
import { timestampMs } from "../lib/time.js";
import { summarizeChunk } from "./chunk-summary.js";

/**
 * The chunks of a command as they arrived: sequence number, time since the command was
 * submitted (from the gateway's `received_at`, so a reopened command shows the same
 * timing as the live view) and what the chunk says. Announced politely to screen readers.
 */
export function ChunkTimeline({
  responses,
  submittedAtMs,
  ended = false,
}: {
  responses: readonly Response[];
  submittedAtMs: number | undefined;
  ended?: boolean;
}) {
  if (responses.length === 0) {
    return <p className="muted">{ended ? "No chunks were received." : "No chunks yet."}</p>;
  }
  return (
    <ol className="timeline" aria-label="Chunks received" aria-live="polite">
      {responses.map((r) => {
        const at = r.receivedAt && submittedAtMs !== undefined ? timestampMs(r.receivedAt) - submittedAtMs : undefined;
        return (
          <li key={r.sequenceNumber} className={r.isFinal ? "timeline-item final" : "timeline-item"} data-sequence={r.sequenceNumber}>
            <span className="timeline-seq">#{r.sequenceNumber}</span>
            <span className="timeline-time">{at === undefined ? "" : `+${Math.max(0, at)} ms`}</span>
            <span className="timeline-text">{summarizeChunk(r.payload)}</span>
            {r.isFinal ? <span className="tag">final</span> : null}
          </li>
        );
      })}
    </ol>
  );
}
