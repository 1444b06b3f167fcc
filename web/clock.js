// The server's "now". Countdowns must agree with the server's clock: in production that is
// the real time; a server run with WORKROOM_TEST_CLOCK=1 answers GET /api/test-clock and its
// time may have been moved, so the page keeps the offset.

let offsetMs = 0;

export async function syncServerClock() {
  try {
    const response = await fetch("/api/test-clock", { credentials: "same-origin" });
    if (!response.ok) return;
    const body = await response.json();
    offsetMs = new Date(body.now).getTime() - Date.now();
  } catch (_) {
    offsetMs = 0;
  }
}

export function serverNow() {
  return Date.now() + offsetMs;
}
