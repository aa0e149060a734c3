/**
 * Progress for the person watching: everything goes to stderr, so stdout carries only the
 * table (and can be piped or diffed).
 */
const started = performance.now();

/** One progress line, prefixed with the seconds since the bench started. */
export function progress(text: string): void {
  const s = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${s}s] ${text}\n`);
}
