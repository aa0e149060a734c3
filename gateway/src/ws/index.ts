/** The edge WebSocket bridge (`/ws/responses/{command_id}`, docs/architecture.md §7) and its JSON messages. */
export { createWsBridge, type WsBridge, type WsBridgeConfig, type StreamAuthenticator } from "./ws-bridge.js";
export { toWsEvent, type WsServerEvent, type WsClientAction } from "./ws-messages.js";
