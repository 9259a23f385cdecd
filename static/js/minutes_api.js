// A small fetch helper for the minutes pages: JSON in, JSON (or a problem+json) out.

const csrf = () => document.querySelector("meta[name=csrf-token]").content;

/** Call the API; resolves to {ok, status, body} (body is the JSON answer or problem). */
export async function call(method, url, data) {
  const options = { method, headers: { "X-CSRF-Token": csrf() } };
  if (data !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(data);
  }
  const response = await fetch(url, options);
  const body = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, body };
}
