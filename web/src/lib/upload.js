// Uploads with progress: fetch cannot report upload progress, XMLHttpRequest can.
import { API, ApiError, getKey } from "../api.js";

/** Send `file` as the body of `method path`; onProgress(fraction 0..1); resolves to the JSON answer. */
export function upload(path, file, onProgress, { method = "POST", contentType = "text/csv" } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, API + path);
    xhr.setRequestHeader("x-functions-key", getKey());
    xhr.setRequestHeader("content-type", contentType);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onerror = () => reject(new Error("The upload failed: network error."));
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status === 401) window.dispatchEvent(new CustomEvent("designer:unauthorized"));
      if (xhr.status >= 400) reject(new ApiError(xhr.status, body));
      else { onProgress(1); resolve(body); }
    };
    xhr.send(file);
  });
}
