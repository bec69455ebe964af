// The API client: same origin, the function key as a header, errors as ApiError with the
// API's problems. A 401 asks for the key again (the shell listens for "designer:unauthorized").
import { STORAGE_KEY } from "./lib/auth.js";

export const API = "/api";

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `Request failed (${status})`);
    this.status = status;
    this.code = body?.error?.code;
    this.problems = body?.error?.problems ?? [];
  }
}

export function getKey() {
  return sessionStorage.getItem(STORAGE_KEY) ?? "";
}

export function setKey(key) {
  if (key) sessionStorage.setItem(STORAGE_KEY, key);
  else sessionStorage.removeItem(STORAGE_KEY);
}

/** fetch under /api with the key; returns the Response (raises ApiError on 4xx/5xx but 304). */
export async function request(path, { method = "GET", body, headers = {}, raw = false } = {}) {
  const init = { method, headers: { "x-functions-key": getKey(), ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    init.headers["content-type"] = "application/json";
  }
  const res = await fetch(API + path, init);
  if (res.status === 401) window.dispatchEvent(new CustomEvent("designer:unauthorized"));
  if (!res.ok && res.status !== 304) {
    let data = null;
    try { data = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, data);
  }
  return raw ? res : res;
}

export async function json(path, options) {
  const res = await request(path, options);
  if (res.status === 204) return null;
  return res.json();
}

/** A binary answer as an object URL (plots, downloads): the key goes as a header, never in a URL. */
export async function blobUrl(path) {
  const res = await request(path);
  return URL.createObjectURL(await res.blob());
}

export async function download(path, filename) {
  const url = await blobUrl(path);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export const enc = encodeURIComponent;
