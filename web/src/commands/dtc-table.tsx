import type { Response } from "@sovd/proto";
import { dtcOf } from "./chunk-summary.js";

/** The trouble codes of a ReadDTC answer as a table, growing as chunks arrive. */
export function DtcTable({ responses, ended = false }: { responses: readonly Response[]; ended?: boolean }) {
  const rows = responses.flatMap((r) => {
    const dtc = dtcOf(r.payload);
    return dtc ? [{ seq: r.sequenceNumber, ...dtc }] : [];
  });
  const done = responses.some((r) => r.isFinal);
  if (rows.length === 0) {
    if (done) return <p className="muted">No trouble codes stored.</p>;
    return <p className="muted">{ended ? "The vehicle sent no trouble codes." : "Waiting for trouble codes…"}</p>;
  }
  return (
    <div className="table-scroll">
      <table className="table">
        <caption>Diagnostic trouble codes</caption>
        <thead>
          <tr>
            <th scope="col">Code</th>
            <th scope="col">Description</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.seq}>
              <td>
                <code>{row.code}</code>
              </td>
              <td>{row.description}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
