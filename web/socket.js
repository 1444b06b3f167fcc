// One WebSocket per tab (API.md "/ws"), multiplexing every open room. It reconnects with
// backoff and, on each (re)connect, subscribes every room again with `since` = the last seq the
// page holds, so the server replays exactly what was missed. The timeline drops any seq it
// already has, so an event is never shown twice.

const PING_EVERY_MS = 25000;
const MAX_BACKOFF_MS = 8000;

export class LiveSocket {
  constructor({ onState } = {}) {
    this.onState = onState || (() => {});
    this.rooms = new Map(); // room id -> handlers {since(), onEvent, onPresence, onTyping, onError, onSubscribed}
    this.ws = null;
    this.state = "idle";
    this.attempt = 0;
    this.stopped = false;
    this.pingTimer = null;
    this.retryTimer = null;
  }

  setState(state, detail) {
    this.state = state;
    this.onState(state, detail);
  }

  connect() {
    this.stopped = false;
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let ws;
    try {
      ws = new WebSocket(`${scheme}//${location.host}/ws`);
    } catch (_) {
      this.scheduleRetry();
      return;
    }
    this.ws = ws;
    ws.addEventListener("open", () => {
      this.attempt = 0;
      this.setState("open");
      for (const roomId of this.rooms.keys()) this.sendSubscribe(roomId);
      clearInterval(this.pingTimer);
      this.pingTimer = setInterval(() => this.send({ op: "ping" }), PING_EVERY_MS);
    });
    ws.addEventListener("message", (e) => this.dispatch(e.data));
    ws.addEventListener("close", (e) => {
      clearInterval(this.pingTimer);
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (e.code === 4001) {
        this.setState("signed_out");
        return;
      }
      if (e.code === 4003) {
        for (const handlers of this.rooms.values()) handlers.onError?.({ code: "not_allowed", message: e.reason });
      }
      this.scheduleRetry(e.code === 4029 ? 5000 : 0);
    });
  }

  scheduleRetry(extraMs = 0) {
    this.setState("reconnecting");
    clearTimeout(this.retryTimer);
    const delay = Math.min(MAX_BACKOFF_MS, 300 * 2 ** this.attempt) + extraMs + Math.random() * 200;
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
  }

  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  sendSubscribe(roomId) {
    const handlers = this.rooms.get(roomId);
    this.send({ op: "subscribe", room: roomId, since: handlers.since() });
  }

  subscribe(roomId, handlers) {
    this.rooms.set(roomId, handlers);
    if (this.state === "open") this.sendSubscribe(roomId);
    else this.connect();
  }

  unsubscribe(roomId) {
    if (this.rooms.delete(roomId)) this.send({ op: "unsubscribe", room: roomId });
  }

  typing(roomId) {
    this.send({ op: "typing", room: roomId });
  }

  dispatch(text) {
    let frame;
    try {
      frame = JSON.parse(text);
    } catch (_) {
      return;
    }
    const handlers = frame.room ? this.rooms.get(frame.room) : null;
    switch (frame.type) {
      case "event": {
        // The envelope's own type travels as "event" (the frame's "type" says what the frame is).
        const { event: type, ...rest } = frame;
        handlers?.onEvent({ ...rest, type });
        break;
      }
      case "presence":
        handlers?.onPresence?.(frame.online || frame.members || []);
        break;
      case "typing":
        handlers?.onTyping?.(frame.actor);
        break;
      case "subscribed":
        handlers?.onSubscribed?.(frame.head);
        break;
      case "error":
        if (handlers) handlers.onError?.(frame);
        else for (const h of this.rooms.values()) if (!frame.room) h.onError?.(frame);
        break;
      default:
        break; // pong, ack: nothing to show
    }
  }
}
