import type { Response } from "@sovd/proto";
import { sampleOf } from "./chunk-summary.js";

const WIDTH = 480;
const HEIGHT = 180;
const PAD = { left: 48, right: 12, top: 12, bottom: 28 };

/** Rounds a value for axis labels without long fractions. */
const label = (v: number): string => (Math.abs(v) >= 100 ? String(Math.round(v)) : String(Number(v.toFixed(2))));

/**
 * The samples of a ReadDataByID answer as a small line chart that grows with each chunk.
 * Text values (the VIN) are listed instead. The values are also in a table for screen
 * readers.
 */
export function SampleChart({ responses, ended = false }: { responses: readonly Response[]; ended?: boolean }) {
  const samples = responses.flatMap((r) => {
    const s = sampleOf(r.payload);
    return s ? [{ seq: r.sequenceNumber, ...s }] : [];
  });
  if (samples.length === 0) return <p className="muted">{ended ? "The vehicle sent no samples." : "Waiting for samples…"}</p>;
  const first = samples[0]!;
  const numeric = samples.flatMap((s) => (typeof s.value === "number" ? [{ ...s, value: s.value }] : []));
  const unit = first.unit ? ` (${first.unit})` : "";

  if (numeric.length === 0) {
    return (
      <ul className="sample-values" aria-label={`${first.name} values`}>
        {samples.map((s) => (
          <li key={s.seq}>
            <code>{String(s.value)}</code>
          </li>
        ))}
      </ul>
    );
  }

  const values = numeric.map((s) => s.value);
  let min = Math.min(...values);
  let max = Math.max(...values);
  if (min === max) {
    min -= 1;
    max += 1;
  }
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (i: number): number => PAD.left + (numeric.length === 1 ? plotW / 2 : (i / (numeric.length - 1)) * plotW);
  const y = (v: number): number => PAD.top + (1 - (v - min) / (max - min)) * plotH;
  const points = numeric.map((s, i) => `${x(i).toFixed(1)},${y(s.value).toFixed(1)}`).join(" ");
  const latest = numeric.at(-1)!;

  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`${first.name}${unit}: ${numeric.length} samples, latest ${label(latest.value)}`}
        data-samples={numeric.length}
      >
        <line className="chart-axis" x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={HEIGHT - PAD.bottom} />
        <line className="chart-axis" x1={PAD.left} y1={HEIGHT - PAD.bottom} x2={WIDTH - PAD.right} y2={HEIGHT - PAD.bottom} />
        <text className="chart-label" x={PAD.left - 6} y={PAD.top + 4} textAnchor="end">
          {label(max)}
        </text>
        <text className="chart-label" x={PAD.left - 6} y={HEIGHT - PAD.bottom} textAnchor="end">
          {label(min)}
        </text>
        <text className="chart-label" x={PAD.left} y={HEIGHT - 8}>
          sample 1
        </text>
        <text className="chart-label" x={WIDTH - PAD.right} y={HEIGHT - 8} textAnchor="end">
          {numeric.length}
        </text>
        <polyline className="chart-line" points={points} />
        {numeric.map((s, i) => (
          <circle key={s.seq} className="chart-dot" cx={x(i)} cy={y(s.value)} r={3.5}>
            <title>{`#${i + 1}: ${s.value}${s.unit ? ` ${s.unit}` : ""}`}</title>
          </circle>
        ))}
      </svg>
      <figcaption>
        {first.name}
        {unit}, latest <strong>{label(latest.value)}</strong>
      </figcaption>
      <table className="sr-only">
        <caption>{first.name} samples</caption>
        <tbody>
          {numeric.map((s, i) => (
            <tr key={s.seq}>
              <th scope="row">Sample {i + 1}</th>
              <td>{`${s.value}${s.unit ? ` ${s.unit}` : ""}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
