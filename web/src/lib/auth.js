// The function key: from the URL fragment (#key=...) once, then kept in session storage.

export const STORAGE_KEY = "designer.functionKey";

/** Take a key from `hash` ("#key=abc&/runs/1" or "#key=abc"): returns {key, rest} where rest is
 * the fragment without the key, or null when the fragment carries no key. */
export function keyFromHash(hash) {
  const text = (hash ?? "").replace(/^#/, "");
  if (!text) return null;
  const parts = text.split("&");
  const found = parts.find((p) => p.startsWith("key="));
  if (!found) return null;
  const key = decodeURIComponent(found.slice(4));
  const rest = parts.filter((p) => p !== found).join("&");
  return key ? { key, rest } : null;
}
