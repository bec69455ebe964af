// History routing under the UI's base path, so every page has a real address.
import { createContext, useContext, useEffect, useState } from "react";

export const BASE = "/api/ui";

export function navigate(path, { replace = false } = {}) {
  const url = BASE + path;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  window.dispatchEvent(new Event("designer:navigate"));
}

export function useLocationPath() {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const update = () => setPath(window.location.pathname);
    window.addEventListener("popstate", update);
    window.addEventListener("designer:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("designer:navigate", update);
    };
  }, []);
  return path;
}

/** A link that navigates without reloading the page. */
export function Link({ to, children, ...rest }) {
  return (
    <a href={BASE + to} onClick={(e) => {
      if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
      e.preventDefault();
      navigate(to);
    }} {...rest}>{children}</a>
  );
}

export const RouteContext = createContext({ params: {}, path: "/" });
export const useRoute = () => useContext(RouteContext);
