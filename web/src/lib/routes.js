// Client-side routes under the UI's base path. Each page module registers a pattern; the
// first match wins. Patterns use :name for one path segment.

export function compile(pattern) {
  const names = [];
  const source = pattern.split("/").map((seg) => {
    if (seg.startsWith(":")) { names.push(seg.slice(1)); return "([^/]+)"; }
    return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }).join("/");
  const regex = new RegExp(`^${source}/?$`);
  return (path) => {
    const m = regex.exec(path);
    if (!m) return null;
    return Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1])]));
  };
}

/** The route for `pathname` (with `base` stripped): {page, params} or null. */
export function match(routes, pathname, base) {
  const path = pathname.startsWith(base) ? "/" + pathname.slice(base.length).replace(/^\/+/, "") : pathname;
  for (const route of routes) {
    const params = route.match(path);
    if (params) return { route, params, path };
  }
  return null;
}
