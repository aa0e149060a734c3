import { createContext, useContext, useSyncExternalStore, type ReactNode } from "react";
import { Role, type User } from "@sovd/proto";
import type { SessionManager, SessionState } from "./session.js";

const SessionContext = createContext<SessionManager | undefined>(undefined);

/** Makes the one SessionManager of the app available below. */
export function SessionProvider({ session, children }: { session: SessionManager; children: ReactNode }) {
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** The session manager (login, logout) of the app. */
export function useSessionManager(): SessionManager {
  const session = useContext(SessionContext);
  if (!session) throw new Error("useSessionManager outside SessionProvider");
  return session;
}

/** The session state, re-rendering on every change. */
export function useSession(): SessionState {
  const session = useSessionManager();
  return useSyncExternalStore(session.subscribe, session.getState);
}

/** The signed-in user; only for components rendered inside the signed-in app. */
export function useUser(): User {
  const state = useSession();
  if (state.status !== "signed-in") throw new Error("useUser while not signed in");
  return state.user;
}

/**
 * What a role may do, so pages offer only what the gateway's role table (docs/architecture.md
 * §7, Auth) will allow: viewers read, engineers also submit and cancel, admins also read the
 * audit log.
 */
export function permissionsOf(role: Role): { readonly canSubmit: boolean; readonly canReadAudit: boolean } {
  return {
    canSubmit: role === Role.ENGINEER || role === Role.ADMIN,
    canReadAudit: role === Role.ADMIN,
  };
}
