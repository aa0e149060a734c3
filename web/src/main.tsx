import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { createConnectTransport } from "@connectrpc/connect-web";
import { createApi } from "./api/api.js";
import { ApiProvider } from "./api/api-context.js";
import { createAuthInterceptor } from "./api/auth-interceptor.js";
import { App } from "./app.js";
import { SessionManager } from "./session/session.js";
import { SessionProvider } from "./session/session-context.js";
import "./styles.css";

// Composition root of the browser app: one transport to the gateway on this origin (it
// serves this app too; in development Vite proxies the API paths), one session.
// The interceptor needs the session and the session needs a client of the transport.
const current: { session?: SessionManager } = {};
const transport = createConnectTransport({
  baseUrl: window.location.origin,
  interceptors: [
    createAuthInterceptor({
      accessToken: () => current.session?.accessToken(),
      onUnauthenticated: () => current.session?.onUnauthenticated(),
    }),
  ],
});
const api = createApi(transport);
const session = new SessionManager(api.auth, { storage: window.sessionStorage });
current.session = session;
void session.restore();

const root = document.getElementById("root");
if (!root) throw new Error("index.html has no #root");
createRoot(root).render(
  <StrictMode>
    <ApiProvider api={api}>
      <SessionProvider session={session}>
        <App />
      </SessionProvider>
    </ApiProvider>
  </StrictMode>,
);
