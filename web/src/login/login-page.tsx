import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { Code, ConnectError } from "@connectrpc/connect";
import { describeRpcError } from "../api/errors.js";
import { useSessionManager } from "../session/session-context.js";

/**
 * Sign in. Shows why the previous session ended (expired, signed out) when there was one,
 * and a wrong password in words, never a code.
 */
export function LoginPage({ notice }: { notice: string | undefined }) {
  const session = useSessionManager();
  const id = useId();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const userField = useRef<HTMLInputElement>(null);

  useEffect(() => {
    document.title = "Sign in · SOVD Fleet Gateway";
    userField.current?.focus();
  }, []);

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    if (!username.trim() || !password) {
      setError("Enter your username and password.");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await session.login(username.trim(), password);
    } catch (err) {
      const code = ConnectError.from(err).code;
      setError(code === Code.Unauthenticated || code === Code.NotFound ? "Wrong username or password." : describeRpcError(err));
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <form className="card login-card" onSubmit={(e) => void submit(e)} noValidate aria-labelledby={`${id}-title`}>
        <h1 id={`${id}-title`}>SOVD Fleet Gateway</h1>
        <p className="muted">Sign in to diagnose the fleet.</p>
        {notice && !error ? (
          <p role="status" className="alert alert-info">
            {notice}
          </p>
        ) : null}
        {error ? (
          <p role="alert" className="alert alert-bad">
            {error}
          </p>
        ) : null}
        <div className="field">
          <label htmlFor={`${id}-user`}>Username</label>
          <input ref={userField} id={`${id}-user`} name="username" autoComplete="username" value={username} onChange={(e) => setUsername(e.target.value)} required />
        </div>
        <div className="field">
          <label htmlFor={`${id}-password`}>Password</label>
          <input id={`${id}-password`} name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </div>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
