import { useEffect } from "react";
import { AuditPage } from "./audit/audit-page.js";
import { CommandPage } from "./commands/command-page.js";
import { RunCommandPage } from "./commands/run-command-page.js";
import { FleetPage } from "./fleet/fleet-page.js";
import { HistoryPage } from "./history/history-page.js";
import { roleLabel } from "./lib/labels.js";
import { hrefs, useRoute, type Route } from "./lib/router.js";
import { LoginPage } from "./login/login-page.js";
import { permissionsOf, useSession, useSessionManager, useUser } from "./session/session-context.js";

/**
 * The app: the login page while signed out, otherwise the shell (navigation, who is signed
 * in, sign out) around the screen the URL names.
 */
export function App() {
  const state = useSession();
  if (state.status === "restoring") {
    return (
      <main className="login" aria-busy="true">
        <p className="muted">Loading…</p>
      </main>
    );
  }
  if (state.status === "signed-out") return <LoginPage notice={state.notice} />;
  return <Shell />;
}

const TITLES: Record<Route["name"], string> = {
  fleet: "Fleet",
  run: "Run a command",
  command: "Command",
  history: "History",
  audit: "Audit log",
  "not-found": "Not found",
};

function Shell() {
  const user = useUser();
  const session = useSessionManager();
  const route = useRoute();
  const perms = permissionsOf(user.role);

  useEffect(() => {
    document.title = `${TITLES[route.name]} · SOVD Fleet Gateway`;
  }, [route.name]);

  const current = (name: Route["name"]): "page" | undefined => (route.name === name ? "page" : undefined);

  return (
    <>
      <a className="skip-link" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById("main")?.focus();
      }}>
        Skip to content
      </a>
      <header className="topbar">
        <a className="brand" href={hrefs.fleet()}>
          SOVD Fleet
        </a>
        <nav aria-label="Main">
          <ul>
            <li>
              <a href={hrefs.fleet()} aria-current={current("fleet")}>
                Fleet
              </a>
            </li>
            <li>
              <a href={hrefs.run()} aria-current={current("run")}>
                Run command
              </a>
            </li>
            <li>
              <a href={hrefs.history()} aria-current={route.name === "history" || route.name === "command" ? "page" : undefined}>
                History
              </a>
            </li>
            {perms.canReadAudit ? (
              <li>
                <a href={hrefs.audit()} aria-current={current("audit")}>
                  Audit log
                </a>
              </li>
            ) : null}
          </ul>
        </nav>
        <div className="user">
          <span>
            {user.username} <span className="tag">{roleLabel(user.role)}</span>
          </span>
          <button type="button" className="btn btn-small" onClick={() => void session.logout()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Screen route={route} />
      </main>
    </>
  );
}

function Screen({ route }: { route: Route }) {
  switch (route.name) {
    case "fleet":
      return <FleetPage />;
    case "run":
      return <RunCommandPage vehicleId={route.vehicleId} command={route.command} />;
    case "command":
      return <CommandPage key={route.commandId} commandId={route.commandId} />;
    case "history":
      return <HistoryPage />;
    case "audit":
      return <AuditPage />;
    case "not-found":
      return (
        <section className="page">
          <h1>Not found</h1>
          <p>
            There is no screen at <code>{route.path}</code>. <a href={hrefs.fleet()}>Go to the fleet</a>.
          </p>
        </section>
      );
  }
}
