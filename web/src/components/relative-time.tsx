import { formatRelative } from "../lib/relative-time.js";
import { formatDateTime } from "../lib/time.js";
import { useNow } from "../lib/use-now.js";

/**
 * "5 minutes ago" that keeps counting while the page is open, with the exact local time as
 * a tooltip and machine-readable `datetime`.
 */
export function RelativeTime({ date, intervalMs = 15_000 }: { date: Date; intervalMs?: number }) {
  const now = useNow(intervalMs);
  return (
    <time dateTime={date.toISOString()} title={formatDateTime(date)}>
      {formatRelative(date, now)}
    </time>
  );
}
