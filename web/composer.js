// The composer: Enter sends, Shift+Enter starts a new line; files by picker or drag and drop,
// each with an upload progress bar; typing signals, throttled.

import { newClientId, post, roomPath, uploadFile } from "./api.js";
import { h, uid } from "./dom.js";
import { bytes } from "./format.js";

const TYPING_EVERY_MS = 3000;

export class Composer {
  /** opts: {roomId, onSent(event), onTyping(), dropZone: element} */
  constructor({ roomId, onSent, onTyping, dropZone }) {
    this.roomId = roomId;
    this.onSent = onSent;
    this.onTyping = onTyping;
    this.files = []; // {id?, name, size, progress <progress>, item <li>, done: Promise}
    this.lastTyping = 0;

    this.text = h("textarea", { id: uid("msg"), rows: 2, placeholder: "Write a message…",
      "aria-describedby": "composer-help" });
    this.picker = h("input", { type: "file", id: uid("file"), multiple: true, class: "visually-hidden" });
    this.fileList = h("ul", { class: "uploads", "aria-label": "Files to send", "aria-live": "polite" });
    this.status = h("p", { class: "form-status", role: "status", "aria-live": "polite" });
    this.send = h("button", { type: "submit" }, "Send");
    this.form = h("form", { class: "composer", "aria-label": "Write a message" },
      h("label", { for: this.text.id, class: "visually-hidden" }, "Message"),
      this.text,
      h("div", { class: "composer-bar" },
        h("label", { for: this.picker.id, class: "button secondary file-button", tabindex: "0", role: "button",
          onkeydown: (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); this.picker.click(); } } },
          "Attach files"),
        this.picker,
        h("small", { id: "composer-help", class: "hint" }, "Enter sends · Shift+Enter new line · drop files here"),
        this.send),
      this.fileList, this.status);

    this.text.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.submit();
      }
    });
    this.text.addEventListener("input", () => {
      const now = Date.now();
      if (this.text.value && now - this.lastTyping > TYPING_EVERY_MS) {
        this.lastTyping = now;
        this.onTyping();
      }
    });
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.submit();
    });
    this.picker.addEventListener("change", () => {
      this.addFiles([...this.picker.files]);
      this.picker.value = "";
    });
    const zone = dropZone || this.form;
    zone.addEventListener("dragover", (e) => {
      if (![...(e.dataTransfer?.types || [])].includes("Files")) return;
      e.preventDefault();
      zone.classList.add("dropping");
    });
    zone.addEventListener("dragleave", () => zone.classList.remove("dropping"));
    zone.addEventListener("drop", (e) => {
      zone.classList.remove("dropping");
      if (!e.dataTransfer?.files?.length) return;
      e.preventDefault();
      this.addFiles([...e.dataTransfer.files]);
    });
  }

  addFiles(files) {
    for (const file of files) {
      const progress = h("progress", { max: 1, value: 0, "aria-label": `Uploading ${file.name}` });
      const state = h("span", { class: "upload-state" }, "uploading…");
      const entry = { name: file.name, size: file.size, id: null };
      const remove = h("button", { type: "button", class: "link", "aria-label": `Remove ${file.name}`,
        onclick: () => { this.files = this.files.filter((f) => f !== entry); entry.item.remove(); } }, "Remove");
      entry.item = h("li", { class: "upload" }, h("span", { class: "file" }, file.name),
        h("span", { class: "size" }, bytes(file.size)), progress, state, remove);
      entry.done = uploadFile(this.roomId, file, (fraction) => { progress.value = fraction; })
        .then((stored) => { entry.id = stored.id; state.textContent = "ready"; entry.item.classList.add("ready"); })
        .catch((error) => { state.textContent = error.message; entry.item.classList.add("failed"); entry.failed = true; });
      this.files.push(entry);
      this.fileList.append(entry.item);
    }
  }

  async submit() {
    const body = this.text.value.trim();
    if (!body && !this.files.length) return;
    this.send.disabled = true;
    this.status.textContent = this.files.some((f) => !f.id) ? "Waiting for uploads…" : "";
    try {
      await Promise.all(this.files.map((f) => f.done));
      const fileIds = this.files.filter((f) => f.id).map((f) => f.id);
      if (!body && !fileIds.length) throw new Error("The files could not be uploaded.");
      // One key per message, kept across retries, so a retry after a lost answer posts it once.
      this.clientId = this.clientId || newClientId();
      const event = await post(roomPath(this.roomId, "/messages"), { body, files: fileIds, client_id: this.clientId });
      this.clientId = null;
      this.lastTyping = 0; // the next keystroke starts a new "is typing" signal
      this.text.value = "";
      this.files = [];
      this.fileList.replaceChildren();
      this.status.textContent = "";
      this.onSent(event);
    } catch (error) {
      this.status.textContent = `Not sent: ${error.message}`;
    } finally {
      this.send.disabled = false;
      this.text.focus();
    }
  }
}
