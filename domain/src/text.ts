const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * True for a canonical UUID, in either case (what every id column holds). Ids are checked
 * before they reach SQL, where anything else would be a 22P02 error instead of the caller's
 * mistake.
 */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}
