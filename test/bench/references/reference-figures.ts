/** What the bare references measured in this run; each part is absent when it was not run. */
export interface References {
  connect?: {
    readonly p50Ms: number;
    readonly callsPerSec: number;
    /** CPU per call of the server and the client process, µs. */
    readonly serverCpuUs: number;
    readonly clientCpuUs: number;
  };
  grpc?: { readonly p50Ms: number; readonly msgsPerSec: number; readonly serverCpuUs: number; readonly clientCpuUs: number };
  pg?: { readonly p50Ms: number; readonly rowsPerSec: number; readonly backendCpuUs: number; readonly clientCpuUs: number; readonly synchronousCommit: string };
  nats?: { readonly p50Ms: number; readonly msgsPerSec: number; readonly pubCpuUs: number; readonly subCpuUs: number };
  /** Fan-out rates with the server's and the receivers' CPU per delivered event, µs. */
  push?: { readonly p50Ms: number; readonly eventsPerSec?: number; readonly streams?: number; readonly serverCpuUs?: number; readonly clientCpuUs?: number };
  ws?: { readonly eventsPerSec: number; readonly clients: number; readonly serverCpuUs: number; readonly clientCpuUs: number };
  /** Per connection count. */
  tcp?: Record<number, { readonly connectMs: number; readonly rssPerSocket: number }>;
  grpcIdle?: Record<number, { readonly openMs: number; readonly rssPerStream: number; readonly heapPerStream: number; readonly idleCpuPct: number }>;
}
