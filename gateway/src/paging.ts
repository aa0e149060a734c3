import { keysetRows, type Pool, type SqlCondition } from "@sovd/platform";
import { InvalidArgumentError } from "./rpc/index.js";

/**
 * Keyset paging for the list calls (docs/architecture.md §5: every list is keyset-paged with
 * opaque tokens). A token is base64url of a versioned JSON tuple of the last row's sort key,
 * so clients cannot build or read them and the server can change the format. A token that
 * does not decode is `invalid_argument` naming `page_token`.
 */

/** Element types of a sort key as a token stores it: "s" string (at most 128 characters), "n" safe integer. */
export type KeyShape = readonly ("s" | "n")[];

/** The decoded sort key of a shape: `["n", "s"]` gives `[number, string]`. */
export type KeyOf<S extends KeyShape> = { -readonly [I in keyof S]: S[I] extends "n" ? number : string };

/** Resolves `page_size` (0 = default) within 1..max; anything else is invalid_argument. */
export function pageSize(requested: number, opts: { default: number; max: number }): number {
  if (requested === 0) return opts.default;
  if (!Number.isInteger(requested) || requested < 1 || requested > opts.max) {
    throw new InvalidArgumentError("page_size", `must be between 1 and ${opts.max}`);
  }
  return requested;
}

/** Encodes the sort key of the last row of a page. */
export function encodePageToken(kind: string, key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify([kind, ...key]), "utf8").toString("base64url");
}

const invalidPageToken = (): never => {
  throw new InvalidArgumentError("page_token", "is not a token from a previous page");
};

/**
 * Decodes a token made by encodePageToken for the same `kind`, checking each element's type
 * against `shape`. Empty token: undefined (first page).
 */
export function decodePageToken<const S extends KeyShape>(token: string, kind: string, shape: S): KeyOf<S> | undefined {
  if (token === "") return undefined;
  if (token.length > 512 || !/^[A-Za-z0-9_-]+$/.test(token)) invalidPageToken();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    return invalidPageToken();
  }
  if (!Array.isArray(parsed) || parsed.length !== shape.length + 1 || parsed[0] !== kind) invalidPageToken();
  const values = (parsed as unknown[]).slice(1);
  values.forEach((v, i) => {
    const ok = shape[i] === "s" ? typeof v === "string" && v.length <= 128 : Number.isSafeInteger(v);
    if (!ok) invalidPageToken();
  });
  return values as KeyOf<S>;
}

/** The part of a pool a list query needs (a pool, or a client inside a transaction). */
export type Queryable = Pick<Pool, "query">;

/** One page of a keyset query, and the token of the next ("" after the last page). */
export interface KeysetPage<R> {
  readonly rows: R[];
  readonly nextPageToken: string;
}

/**
 * One keyset-paged list query, built in request order: the request's filters as WHERE
 * conditions whose parameters are numbered here (never by hand), the position after the
 * previous page from its token, then one query for the page and the next token.
 *
 * ```ts
 * const list = keysetQuery("audit", ["n", "s"]);
 * if (userId) list.where(sql`user_id = ${userId}`);
 * const after = list.after(req.pageToken, ([us, id]) => us >= 0 && isUuid(id));
 * if (after) list.where(sql`(created_at, audit_id) < (timestamptz 'epoch' + ${after[0]} * interval '1 microsecond', ${after[1]}::uuid)`);
 * const { rows, nextPageToken } = await list.page<AuditRow>(pool, {
 *   select: "SELECT …, created_us FROM audit_logs", orderBy: "created_at DESC, audit_id DESC",
 *   size, keyOf: (r) => [Number(r.created_us), r.audit_id],
 * });
 * ```
 *
 * The keyset condition and `orderBy` must agree (`<` with DESC, `>` with ASC, on the same
 * columns): the builder does not derive one from the other.
 */
export interface KeysetQuery<K> {
  /** Adds a condition (made with the `sql` tag), ANDed with the others; its values become the next parameters. */
  where(condition: SqlCondition): void;
  /**
   * The sort key after which this page starts, from `page_token`; undefined on the first page.
   * A token of another list, of another shape or failing `valid` is invalid_argument naming page_token.
   */
  after(token: string, valid?: (key: K) => boolean): K | undefined;
  /**
   * Runs `select` WHERE … ORDER BY `orderBy` LIMIT size + 1 (the extra row says whether a
   * next page exists) and returns at most `size` rows, with the next token from `keyOf` of
   * the last one. May be called again (nothing is consumed).
   */
  page<R extends object>(db: Queryable, q: { select: string; orderBy: string; size: number; keyOf: (row: R) => K }): Promise<KeysetPage<R>>;
}

/** Starts a keyset query whose tokens are of `kind` (a token of another list is refused) with sort keys of `shape`. */
export function keysetQuery<const S extends KeyShape>(kind: string, shape: S): KeysetQuery<KeyOf<S>> {
  const where: SqlCondition[] = [];
  return {
    where(condition) {
      where.push(condition);
    },
    after(token, valid) {
      const key = decodePageToken(token, kind, shape);
      if (key !== undefined && valid && !valid(key)) invalidPageToken();
      return key;
    },
    async page<R extends object>(db: Queryable, q: { select: string; orderBy: string; size: number; keyOf: (row: R) => KeyOf<S> }) {
      const { rows, more } = await keysetRows<R>(db, { ...q, where });
      const last = rows[rows.length - 1];
      return { rows, nextPageToken: more && last ? encodePageToken(kind, q.keyOf(last)) : "" };
    },
  };
}
