import { useEffect, useState } from "react";

/**
 * The current time, re-rendering every `intervalMs`, so relative times ("last seen 5 minutes
 * ago") keep counting while a page stays open.
 */
export function useNow(intervalMs = 15_000): Date {
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
  return now;
}
