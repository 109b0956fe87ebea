// mkdocs-erratum reader widget, the part every page loads: the "Report an error" button,
// the per-paragraph link, the selection mode and Ctrl+Enter. Blocks carry
// data-erratum-src="PATH#LA-LB"; settings are in <script id="erratum-config">. The dialog
// (erratum-dialog.js: the issue builder and the service client) is imported on the first
// press, from beside this file: nothing is fetched before the reader acts.
const ATTR = "data-erratum-src";
const NOT_SELECTABLE = /^(TABLE|THEAD|TBODY|TFOOT|TR|UL|OL|DL|HR|IMG|BR|SUMMARY|DETAILS)$/;
const chosen = new Set();
let C, T, lang, only, button, link, banner, dialog, selecting = false;

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") e.addEventListener(k, v);
    else if (v != null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  e.append(...kids);
  return e;
}
const where = (b) => /^(.+)#L(\d+)-L(\d+)$/.exec(b.getAttribute(ATTR) || "");
const isOpen = () => document.querySelector(".erratum-dialog[open]");

// The page's language: its front matter's (the erratum-lang meta), <html lang>, the
// theme's; by its first part ("pt" for "pt-BR"), as the build names the ones it embeds.
const language = () => [document.querySelector("meta[name=erratum-lang]")?.content, document.documentElement.lang]
  .map((c) => (c || "").split(/[-_]/)[0].toLowerCase()).find((c) => C.strings[c]) || C.lang;

// -- Blocks ------------------------------------------------------------------------------
function textOf(node) {
  const copy = node?.cloneNode(true);
  copy?.querySelectorAll(".headerlink, .erratum-toggle, .erratum-here").forEach((x) => x.remove());
  return copy?.textContent.replace(/\s+/g, " ").trim() || "";
}
const label = (b) => (textOf(b) || b.querySelector("img")?.alt || b.getAttribute(ATTR)).slice(0, 80);

function ownText(b) {
  const walk = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const t = walk.currentNode;
    if (t.data.trim() && t.parentElement.closest(`[${ATTR}]`) === b) return true;
  }
  return false;
}

// A block a reader can pick: the innermost annotated ones, plus containers with text of
// their own (a list item holding a nested list); never table rows or lists themselves.
const pickable = (b) => where(b) && !NOT_SELECTABLE.test(b.tagName) && (!only || b.matches(only)) &&
  (ownText(b) || !b.querySelector(`[${ATTR}]`));
const blocks = () => [...document.querySelectorAll(`[${ATTR}]`)].filter((b) => b.getClientRects().length && pickable(b));

function blockAt(node) {
  for (let b = node?.closest?.(`[${ATTR}]`); b; b = b.parentElement.closest(`[${ATTR}]`)) {
    if (pickable(b)) return b;
  }
}

// -- The per-paragraph link: one button, moved into the block under the pointer, the
// touched or text-selected block, or (arrow keys) the next one: one tab stop in all.
function place(b, shown) {
  if (!b || selecting) return;
  const focused = document.activeElement === link;
  if (link.parentElement !== b) b.prepend(link); // moving it blurs it
  link.setAttribute("aria-description", label(b)); // its name stays T.here
  link.classList.toggle("erratum-shown", !!shown);
  if (focused) link.focus({ preventScroll: true });
}

function rove(e) {
  const step = { ArrowDown: 1, ArrowUp: -1 }[e.key];
  if (!step) return;
  e.preventDefault();
  const list = blocks(), b = list[list.indexOf(link.parentElement) + step];
  if (b) {
    place(b);
    b.scrollIntoView({ block: "nearest" });
  }
}

// -- Selection mode -----------------------------------------------------------------------
function enter(picked = []) {
  if (selecting) return;
  selecting = true;
  chunk().then((d) => d.mark({ C, T, lang, el, where }), Boolean); // "Already reported" markers
  chosen.clear();
  document.documentElement.classList.add("erratum-selecting");
  let focus;
  for (const b of blocks()) {
    const t = el("button", { type: "button", class: "erratum-toggle", "aria-pressed": "false", "aria-label": label(b) });
    const pick = (on) => {
      on ? chosen.add(b) : chosen.delete(b);
      t.setAttribute("aria-pressed", on);
      b.classList.toggle("erratum-selected", on);
    };
    t.addEventListener("click", (e) => {
      e.preventDefault();
      e.stopPropagation();
      pick(!chosen.has(b));
      count();
    });
    b.classList.add("erratum-block");
    // Links inside blocks leave the Tab order while the toggles cover them.
    for (const f of b.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")) {
      if (f.hasAttribute("data-erratum-tabindex")) continue;
      f.setAttribute("data-erratum-tabindex", f.getAttribute("tabindex") ?? "");
      f.tabIndex = -1;
    }
    b.prepend(t);
    if (picked.includes(b)) pick(true);
    if (!focus && b.getBoundingClientRect().bottom > 0) focus = t;
  }
  const next = el("button", { type: "button", class: "erratum-continue", click: () => go([...chosen]) });
  banner = el("div", { class: "erratum-banner", role: "region", "aria-label": T.button, lang },
    el("p", { role: "status" }, T.banner), next,
    el("button", { type: "button", class: "erratum-secondary", click: () => leave(true) }, T.cancel));
  document.body.append(banner);
  count();
  (focus || next).focus({ preventScroll: true });
}

function count() {
  const next = banner.querySelector(".erratum-continue");
  next.textContent = `${T.continue} (${chosen.size})`;
  next.disabled = !chosen.size;
}

function leave(refocus) {
  if (!selecting) return;
  selecting = false;
  document.documentElement.classList.remove("erratum-selecting");
  for (const t of document.querySelectorAll(".erratum-toggle")) t.remove();
  for (const b of document.querySelectorAll(".erratum-block")) b.classList.remove("erratum-block", "erratum-selected");
  for (const f of document.querySelectorAll("[data-erratum-tabindex]")) {
    const old = f.getAttribute("data-erratum-tabindex");
    old ? f.setAttribute("tabindex", old) : f.removeAttribute("tabindex");
    f.removeAttribute("data-erratum-tabindex");
  }
  banner.remove();
  if (refocus) button.focus();
}

// Open the dialog on these blocks (a failed import is tried again on the next press).
async function go(list, quoted = "") {
  leave(false);
  if (!list.length) return;
  (await chunk()).open(list, quoted, { C, T, lang, el, where, textOf, button, more: enter });
}
const chunk = () => dialog ||= import("./erratum-dialog.js").catch((e) => (dialog = null, Promise.reject(e)));

// -- Start ----------------------------------------------------------------------------------
function start() {
  // Read again on each page: Material's instant navigation swaps <head> per page.
  C = JSON.parse(document.getElementById("erratum-config").textContent);
  lang = language();
  T = C.strings[lang];
  // A widget_blocks this browser cannot parse must not break the widget: all blocks stay.
  try {
    only = C.blocks && document.querySelector(C.blocks) && C.blocks;
  } catch {
    only = null;
    console.warn("erratum: invalid widget_blocks", C.blocks);
  }
  let holder = document.querySelector(".erratum-nojs");
  if (!holder) document.body.append((holder = el("p", { class: "erratum-nojs" })));
  button = el("button", { type: "button", class: "erratum-button", lang, click: () => enter() }, T.button);
  holder.replaceChildren(button);
  link?.remove();
  link = null;
  if (C.links !== false) {
    link = el("button", {
      type: "button", class: "erratum-here", title: T.here, "aria-label": T.here, lang, "aria-keyshortcuts": "ArrowUp ArrowDown",
      click: (e) => (e.preventDefault(), go([link.parentElement])), keydown: rove,
    });
    place(blocks()[0]);
  }
}

// SubtleCrypto (hashes, proof of work) needs HTTPS: elsewhere the plain issue link stays.
if (window.crypto?.subtle) {
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && selecting && !isOpen()) return leave(true);
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || isOpen()) return;
    const sel = getSelection();
    if (selecting) {
      e.preventDefault();
      if (chosen.size) go([...chosen]);
    } else if (sel && !sel.isCollapsed) {
      const hit = blocks().filter((b) => sel.containsNode(b, true));
      const inner = hit.filter((b) => !hit.some((o) => o !== b && b.contains(o)));
      if (!inner.length) return;
      e.preventDefault();
      const text = sel.toString().trim();
      go(inner, text && text.split("\n").map((l) => "> " + l).join("\n") + "\n\n");
    }
  });
  // The link follows the mouse and the focus; a touch (a tap, a long press) shows it.
  for (const type of ["pointerover", "pointerdown", "focusin"]) {
    document.addEventListener(type, (e) => link && e.target !== link && place(blockAt(e.target), e.pointerType && e.pointerType !== "mouse"));
  }

  start();
  // Material's instant navigation swaps the page without reloading: start again on each page.
  window.document$?.subscribe?.(() => {
    leave(false);
    isOpen()?.close();
    start();
  });
}
