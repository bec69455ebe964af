// The query string as page state, so filters and pages have their own address.
import { useEffect, useState } from "react";
import { navigate } from "../router.jsx";

export function useSearch() {
  const [search, setSearch] = useState(() => new URLSearchParams(window.location.search));
  useEffect(() => {
    const update = () => setSearch(new URLSearchParams(window.location.search));
    window.addEventListener("popstate", update);
    window.addEventListener("designer:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("designer:navigate", update);
    };
  }, []);
  return search;
}

/** Go to `path` with these query values (empty ones left out). */
export function navigateWith(path, values) {
  const q = new URLSearchParams(Object.entries(values).filter(([, v]) => v !== "" && v !== null && v !== undefined && v !== 0));
  const text = q.toString();
  navigate(text ? `${path}?${text}` : path);
}
