import { Code, ConnectError } from "@connectrpc/connect";

/** Reads a server stream into an array until it ends or `count` messages arrived. */
export async function take<T>(stream: AsyncIterable<T>, count = Infinity): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) {
    out.push(item);
    if (out.length >= count) break;
  }
  return out;
}

/** The Connect code and raw message a call fails with; throws when the call succeeds. */
export async function codeOf(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
  throw new Error("expected the call to fail");
}

/** The name of the Connect code a call ends with ("ok" when it succeeds); streams are read to the end. */
export async function outcome(call: () => Promise<unknown> | AsyncIterable<unknown>): Promise<string> {
  try {
    const result = call();
    if (result && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
      for await (const _ of result as AsyncIterable<unknown>) void _;
    } else {
      await result;
    }
    return "ok";
  } catch (err) {
    return Code[ConnectError.from(err).code] ?? "unknown";
  }
}
