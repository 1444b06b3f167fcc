// The one way the page talks HTTP to the server: JSON in and out (API.md), errors as ApiError.
// The session cookie rides along (same origin); browsers add the Origin header the server checks.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorFrom(response) {
  let code = "http_error";
  let message = `The server answered ${response.status}.`;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch (_) {
    /* not JSON: keep the generic sentence */
  }
  return new ApiError(response.status, code, message);
}

export async function request(method, path, body, { headers = {} } = {}) {
  const init = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (_) {
    throw new ApiError(0, "network", "Cannot reach the server; check your connection.");
  }
  if (!response.ok) throw await errorFrom(response);
  const type = response.headers.get("content-type") || "";
  return type.includes("json") ? response.json() : response.text();
}

export const get = (path) => request("GET", path);
export const post = (path, body = {}, options) => request("POST", path, body, options);

/** A key that makes a retried write harmless (the server returns the first result). */
export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return `c-${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

/**
 * Upload one file with XMLHttpRequest, the one browser API that reports upload progress.
 * onProgress(fraction 0..1). Resolves to {id, name, size, content_type, sha256}.
 */
export function uploadFile(roomId, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/rooms/${encodeURIComponent(roomId)}/files`);
    xhr.withCredentials = true;
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      const body = xhr.response;
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body);
      } else {
        const err = body && body.error ? body.error : {};
        reject(new ApiError(xhr.status, err.code || "upload_failed", err.message || "The upload failed."));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "The upload was interrupted.")));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

export const roomPath = (roomId, rest = "") => `/api/rooms/${encodeURIComponent(roomId)}${rest}`;
export const patch = (path, body = {}) => request("PATCH", path, body);
