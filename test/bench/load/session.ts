/** One gateway as a client sees it: a Connect transport (HTTP/1.1, JSON, as the web app) and a logged-in session. */
import type { Agent } from "node:http";
import { createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AuthService, CommandService } from "@sovd/proto";

export interface GatewaySession {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly auth: Client<typeof AuthService>;
  readonly commands: Client<typeof CommandService>;
}

/** Logs in through AuthService.Login, as an engineer's browser does. */
export async function openSession(url: string, agent: Agent, username: string, password: string): Promise<GatewaySession> {
  const transport = createConnectTransport({ baseUrl: url, httpVersion: "1.1", useBinaryFormat: false, nodeOptions: { agent } });
  const auth = createClient(AuthService, transport);
  const { accessToken } = await auth.login({ username, password });
  return { url, headers: { authorization: `Bearer ${accessToken}` }, auth, commands: createClient(CommandService, transport) };
}
