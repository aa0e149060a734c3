import { useCallback, useEffect, useState } from "react";
import { describeRpcError } from "../api/errors.js";

/** One page of a token-paged list call. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextPageToken: string;
}

/** What a paged list shows: the items of the current page, paging controls, loading and errors. */
export interface Paged<T> {
  readonly items: readonly T[];
  readonly loading: boolean;
  readonly error: string | undefined;
  readonly page: number;
  readonly hasPrevious: boolean;
  readonly hasNext: boolean;
  next(): void;
  previous(): void;
  reload(): void;
  /** Replaces one item in place (a live update), keeping the page. */
  patch(update: (items: readonly T[]) => readonly T[]): void;
}

/**
 * Pages through a list API with opaque page tokens: keeps the tokens of the pages seen so
 * far (the API has no "previous"), restarts at page 1 whenever `key` (the filters) changes,
 * and drops answers of requests that were superseded.
 */
export function usePaged<T>(key: string, load: (pageToken: string, signal: AbortSignal) => Promise<Page<T>>): Paged<T> {
  const [tokens, setTokens] = useState<readonly string[]>([""]);
  const [resetKey, setResetKey] = useState(key);
  const [nonce, setNonce] = useState(0);
  const [result, setResult] = useState<{ items: readonly T[]; next: string; error: string | undefined; loading: boolean }>({
    items: [],
    next: "",
    error: undefined,
    loading: true,
  });

  if (resetKey !== key) {
    setResetKey(key);
    setTokens([""]);
  }
  const token = resetKey === key ? (tokens.at(-1) ?? "") : "";

  useEffect(() => {
    const controller = new AbortController();
    setResult((r) => ({ ...r, loading: true }));
    load(token, controller.signal).then(
      (page) => {
        if (!controller.signal.aborted) setResult({ items: page.items, next: page.nextPageToken, error: undefined, loading: false });
      },
      (err: unknown) => {
        if (!controller.signal.aborted) setResult({ items: [], next: "", error: describeRpcError(err), loading: false });
      },
    );
    return () => controller.abort();
    // `load` is deliberately not a dependency: it closes over the filters, which `key` stands for.
  }, [key, token, nonce]);

  const next = useCallback(() => {
    if (result.next) setTokens((t) => [...t, result.next]);
  }, [result.next]);
  const previous = useCallback(() => setTokens((t) => (t.length > 1 ? t.slice(0, -1) : t)), []);
  const reload = useCallback(() => setNonce((n) => n + 1), []);
  const patch = useCallback((update: (items: readonly T[]) => readonly T[]) => setResult((r) => ({ ...r, items: update(r.items) })), []);

  return {
    items: result.items,
    loading: result.loading,
    error: result.error,
    page: tokens.length - 1,
    hasPrevious: tokens.length > 1,
    hasNext: result.next !== "" && !result.loading,
    next,
    previous,
    reload,
    patch,
  };
}
