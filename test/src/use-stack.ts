import { afterAll, afterEach, beforeAll } from "vitest";
import { startStack, type Stack, type StackOptions } from "./stack.js";

/**
 * One stack for the tests of a file (or describe block), without the same three hooks in every
 * file: started before the first test, closed after the last, and with `resetAfterEach`
 * reset after each test (what a test started on top of it is stopped, its logs forgotten).
 * Returns the stack itself; touching it before the hooks ran (at collection time) throws.
 */
export function useStack(opts: StackOptions = {}, lifecycle: { resetAfterEach?: boolean } = {}): Stack {
  let current: Stack | undefined;
  beforeAll(async () => {
    current = await startStack(opts);
  });
  if (lifecycle.resetAfterEach) {
    afterEach(async () => {
      await current?.reset();
    });
  }
  afterAll(async () => {
    const stack = current;
    current = undefined;
    await stack?.close();
  });
  return new Proxy({} as Stack, {
    get(_target, prop) {
      if (!current) throw new Error(`the stack is used before it started (stack.${String(prop)}): use it in a test or hook`);
      const value: unknown = Reflect.get(current, prop, current);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
}
