import { ConnectError, type Interceptor, type StreamResponse } from "@connectrpc/connect";
import type { Logger } from "@sovd/platform";
import { isBusError, isDatabaseError, toConnectError } from "./errors.js";
import { isBinaryParseError, parseErrorAsInvalidArgument } from "./parse-errors.js";
import { codeLabel, type GatewayMetrics } from "../metrics.js";
import { clientInfoKey } from "../request-context.js";

async function* observeStream<T>(messages: AsyncIterable<T>, onEnd: (err?: unknown) => void): AsyncGenerator<T> {
  let failure: unknown;
  try {
    yield* messages;
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    onEnd(failure);
  }
}

async function* mapStreamErrors<T>(messages: AsyncIterable<T>, map: (err: unknown) => ConnectError): AsyncGenerator<T> {
  try {
    yield* messages;
  } catch (err) {
    throw map(err);
  }
}

/**
 * `rpc_requests_total{service,method,code}` and `rpc_request_duration_seconds{service,method}`
 * for every call; a stream is counted when it ends, with the code it ended with.
 */
export function createMetricsInterceptor(metrics: GatewayMetrics): Interceptor {
  return (next) => async (req) => {
    const labels = { service: req.service.typeName, method: req.method.name };
    const started = performance.now();
    const record = (err?: unknown): void => {
      const code = err === undefined ? undefined : ConnectError.from(err).code;
      metrics.rpcRequests.inc({ ...labels, code: codeLabel(code) });
      metrics.rpcDuration.observe(labels, (performance.now() - started) / 1000);
    };
    let res;
    try {
      res = await next(req);
    } catch (err) {
      record(err);
      throw err;
    }
    if (!res.stream) {
      record();
      return res;
    }
    return { ...res, message: observeStream(res.message, record) } as StreamResponse;
  };
}

/**
 * The RPC edge (architecture §4 "RPC errors"): domain errors become their Connect codes,
 * anything unexpected is logged with the request id and answered as a generic `internal` (or
 * `unavailable` when the database or bus failed). Covers unary answers and streams.
 */
export function createErrorInterceptor(deps: { logger: Logger; metrics: GatewayMetrics }): Interceptor {
  return (next) => async (req) => {
    const { requestId } = req.contextValues.get(clientInfoKey);
    const map = (err: unknown): ConnectError => {
      // A stream's request is parsed inside the interceptors: a body that is no message is the caller's.
      if (isBinaryParseError(err)) return parseErrorAsInvalidArgument(err, req.method.input.typeName);
      if (isDatabaseError(err)) deps.metrics.databaseErrors.inc();
      if (isBusError(err)) deps.metrics.busErrors.inc();
      return toConnectError(err, deps.logger.child({ requestId, rpc: `${req.service.typeName}/${req.method.name}` }));
    };
    try {
      const res = await next(req);
      if (!res.stream) return res;
      return { ...res, message: mapStreamErrors(res.message, map) } as StreamResponse;
    } catch (err) {
      throw map(err);
    }
  };
}
