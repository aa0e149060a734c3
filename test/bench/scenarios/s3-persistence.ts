/**
 * S3: chunk rows stored per second at saturation. A command that answers in many chunks
 * (ReadDataByID, 20 samples, no spacing) keeps the connector's chunk path busy; the rows are
 * counted in the `responses` table at the window's two marks.
 */
import { progress } from "../log.js";
import { monoMs } from "../stats.js";
import { goals, row, type Figure, type Row } from "../table.js";
import type { CommandStack } from "./command-stack.js";
import { measureCommandRun } from "./command-run.js";
import type { RunContext } from "./context.js";

export async function runS3(ctx: RunContext, stack: CommandStack): Promise<Row[]> {
  const db = await ctx.database();
  const { s3 } = ctx.plan;
  const counts: Array<{ at: number; rows: number }> = [];
  const count = async (): Promise<void> => {
    const [r] = await db.query<{ n: string }>("SELECT count(*) AS n FROM responses");
    counts.push({ at: monoMs(), rows: Number(r!.n) });
  };
  progress(`S3: ReadDataByID (${s3.samples} chunks each) at ${s3.inFlight} in flight, ${s3.windowMs / 1000} s window`);
  const r = await measureCommandRun(
    stack.loadgen,
    { vehicleIds: stack.vehicleIds, inFlight: s3.inFlight, commandName: "ReadDataByID", params: { dataId: "0xF40D", samples: s3.samples } },
    { warmupMs: s3.warmupMs, windowMs: s3.windowMs, atMark: count },
  );
  const [a, b] = counts;
  const rowsPerSec = (b!.rows - a!.rows) / ((b!.at - a!.at) / 1000);
  progress(`S3: ${rowsPerSec.toFixed(0)} chunk rows/s stored, ${r.run.failed} commands failed`);
  const reference: Figure | undefined = ctx.refs.pg ? { value: ctx.refs.pg.rowsPerSec, unit: "rows/s", label: "bare INSERTs, 8 clients" } : undefined;
  return [
    row(`S3 chunk rows stored/s, ReadDataByID ×${s3.samples}, ${s3.inFlight} in flight`, reference, { value: rowsPerSec, unit: "rows/s" }, {
      goal: goals.ratioAtLeast(1),
      failed: r.run.failed,
    }),
  ];
}
