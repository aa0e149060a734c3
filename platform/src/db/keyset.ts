import type { Queryable } from "./database.js";

/*
 * The one keyset-paged list query (architecture §5 "Data": every list is keyset-paged): the
 * filters as bound conditions, then `size + 1` rows in a fixed order, the extra row saying
 * whether a next page exists. What a page token looks like is the API's business, not this.
 */

/** A condition of a list query: SQL text with values between its parts, each bound as a parameter. */
export interface SqlCondition {
  readonly parts: readonly string[];
  readonly values: readonly unknown[];
}

/** Tag for a condition: in sql`user_id = ${id}` the id is a bound parameter, never SQL text. */
export function sql(parts: TemplateStringsArray, ...values: unknown[]): SqlCondition {
  return { parts: [...parts], values };
}

/** At most `size` rows of a keyset query, and whether rows follow them. */
export interface KeysetRows<R> {
  readonly rows: R[];
  readonly more: boolean;
}

/**
 * Runs `select` WHERE (the conditions, ANDed; their parameters numbered here, never by hand)
 * ORDER BY `orderBy` LIMIT size + 1. The keyset condition of the page after is one of
 * `where`, and must agree with `orderBy` (`<` with DESC, `>` with ASC, on the same columns).
 */
export async function keysetRows<R extends object>(
  db: Queryable,
  q: { readonly select: string; readonly where: readonly SqlCondition[]; readonly orderBy: string; readonly size: number },
): Promise<KeysetRows<R>> {
  const values: unknown[] = [];
  const conditions = q.where.map(({ parts, values: bound }) =>
    parts.reduce((text, part, i) => {
      values.push(bound[i - 1]);
      return `${text}$${values.length}${part}`;
    }),
  );
  values.push(q.size + 1);
  const where = conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : "";
  const { rows } = await db.query<R>(`${q.select}${where} ORDER BY ${q.orderBy} LIMIT $${values.length}`, values);
  return { rows: rows.slice(0, q.size), more: rows.length > q.size };
}
