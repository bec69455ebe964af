import { useCallback, useEffect, useMemo, useState } from "react";
import { getKey, json, setKey } from "./api.js";
import { CatalogueContext } from "./catalogue.js";
import { Dialog } from "./components/Dialog.jsx";
import { match } from "./lib/routes.js";
import { ROUTES } from "./pages/index.js";
import { BASE, Link, RouteContext, useLocationPath } from "./router.jsx";

export function App() {
  const path = useLocationPath();
  const [signIn, setSignIn] = useState(!getKey());
  const [authVersion, setAuthVersion] = useState(0);
  const catalogue = useCatalogue(authVersion, signIn);

  useEffect(() => {
    const ask = () => setSignIn(true);
    window.addEventListener("designer:unauthorized", ask);
    return () => window.removeEventListener("designer:unauthorized", ask);
  }, []);

  const found = match(ROUTES, path, BASE);
  const Page = found?.route.page;
  const section = found ? (found.route.section ?? found.route.pattern) : null;
  return (
    <CatalogueContext.Provider value={catalogue}>
      <div className="shell">
        <header className="topbar">
          <span className="brand">ML pipeline designer</span>
          <nav aria-label="Main">
            {ROUTES.filter((r) => r.nav).map((r) => (
              <Link key={r.pattern} to={r.pattern} aria-current={section === r.pattern ? "page" : undefined}>{r.nav}</Link>
            ))}
          </nav>
          <span className="spacer" />
          <button type="button" className="linkish" onClick={() => setSignIn(true)}>Function key</button>
        </header>
        <main className="page">
          {signIn ? null : Page ? (
            <RouteContext.Provider value={{ params: found.params, path: found.path }}>
              <Page key={found.path} {...found.params} />
            </RouteContext.Provider>
          ) : (
            <section className="padded"><h1>Not found</h1><p>No page here. <Link to="/">Open the designer</Link>.</p></section>
          )}
        </main>
        {signIn && <SignInDialog onDone={() => { setSignIn(false); setAuthVersion((v) => v + 1); }} />}
      </div>
    </CatalogueContext.Provider>
  );
}

function SignInDialog({ onDone }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState("");
  const submit = async (e) => {
    e.preventDefault();
    setKey(value.trim());
    try {
      await json("/components");
      onDone();
    } catch (err) {
      setError(err.status === 401 ? "That key was refused." : err.message);
    }
  };
  return (
    <Dialog title="Sign in" onClose={null}>
      <form onSubmit={submit}>
        <p>Enter the function key of this app (locally: <code>.local/function-key</code>; in Azure:
          the app's <code>default</code> function key). It is kept for this browser tab only.</p>
        <p className="muted">Where the app uses Entra ID sign-in, <a href={`/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(window.location.pathname)}`}>sign in with your organisation account</a> first.</p>
        <label className="field">Function key
          <input type="password" autoFocus value={value} onChange={(e) => setValue(e.target.value)} />
        </label>
        {error && <p role="alert" className="error">{error}</p>}
        <div className="actions"><button type="submit" className="primary">Sign in</button></div>
      </form>
    </Dialog>
  );
}

function useCatalogue(version, paused) {
  const [components, setComponents] = useState([]);
  const [datasets, setDatasets] = useState([]);
  const [samples, setSamples] = useState([]);
  const [error, setError] = useState(null);
  const refreshDatasets = useCallback(async () => {
    const [d, s] = await Promise.all([json("/datasets"), json("/samples")]);
    setDatasets(d.value);
    setSamples(s.value);
  }, []);
  useEffect(() => {
    if (paused) return;
    json("/components").then((c) => setComponents(c.value)).catch(setError);
    refreshDatasets().catch(setError);
  }, [version, paused, refreshDatasets]);
  const byId = useMemo(() => new Map(components.map((c) => [c.id, c])), [components]);
  const columns = useMemo(() => new Map(datasets.map((d) => [d.name, d.columns.map((c) => c.name)])), [datasets]);
  return useMemo(() => ({
    list: components, byId, ready: components.length > 0,
    datasets, samples, refreshDatasets, error, columns,
  }), [components, byId, datasets, samples, refreshDatasets, error, columns]);
}
