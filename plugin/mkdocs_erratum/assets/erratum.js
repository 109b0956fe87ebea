// mkdocs-erratum reader widget, the part every page loads: the "Report an error" button,
// the per-paragraph link, the selection mode and Ctrl+Enter. Blocks carry
// data-erratum-src="PATH#LA-LB"; settings are in <script id="erratum-config">. The dialog
// (erratum-dialog.js: the issue builder and the service client) is imported on the first
// press, from beside this file: nothing is fetched before the reader acts. The site gets
// assets/dist/erratum.js, minified (make widget).
const ATTR = "data-erratum-src";
const BLOCK = `[${ATTR}]`; // the annotated blocks' selector
const NOT_SELECTABLE = /^(TABLE|THEAD|TBODY|TFOOT|TR|UL|OL|DL|HR|IMG|BR|SUMMARY|DETAILS)$/;
const chosen = new Set();
let C, T, lang, only, button, link, banner, next, dialog, selecting = false;

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const k in attrs) {
    const v = attrs[k];
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

// b's first non-blank text node outside its nested blocks, if any (4: SHOW_TEXT; the
// filter answers 1: FILTER_ACCEPT or 3: FILTER_SKIP).
const ownText = (b) => document.createTreeWalker(b, 4,
  (t) => (t.data.trim() && t.parentElement.closest(BLOCK) === b ? 1 : 3)).nextNode();

// A block a reader can pick: the innermost annotated ones, plus containers with text of
// their own (a list item holding a nested list); never table rows or lists themselves.
const pickable = (b) => where(b) && !NOT_SELECTABLE.test(b.tagName) && (!only || b.matches(only)) &&
  (ownText(b) || !b.querySelector(BLOCK));
const blocks = () => [...document.querySelectorAll(BLOCK)].filter((b) => b.getClientRects().length && pickable(b));

function blockAt(node) {
  for (let b = node?.closest?.(BLOCK); b; b = b.parentElement.closest(BLOCK)) {
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
// Links and fields inside the blocks leave the Tab order while the toggles cover them:
// their own tabindex is kept here, to be put back.
const tabindex = new Map();
function enter(picked = []) {
  if (selecting) return;
  selecting = true;
  chunk().then((d) => d.mark(context()), Boolean); // "Already reported" markers
  chosen.clear();
  document.documentElement.classList.add("erratum-selecting");
  let focus;
  for (const b of blocks()) {
    const pick = (on) => (on ? chosen.add(b) : chosen.delete(b), t.setAttribute("aria-pressed", on));
    const t = el("button", { type: "button", class: "erratum-toggle", "aria-label": label(b),
      click: (e) => (e.preventDefault(), e.stopPropagation(), pick(!chosen.has(b)), count()) });
    b.classList.add("erratum-block");
    for (const f of b.querySelectorAll("a[href], button, input, select, textarea, [tabindex]")) {
      if (!tabindex.has(f)) tabindex.set(f, f.getAttribute("tabindex")), (f.tabIndex = -1);
    }
    b.prepend(t);
    pick(picked.includes(b)); // sets aria-pressed
    if (!focus && b.getBoundingClientRect().bottom > 0) focus = t;
  }
  next = el("button", { type: "button", class: "erratum-continue", click: () => go([...chosen]) });
  banner = el("div", { class: "erratum-banner", role: "region", "aria-label": T.button, lang },
    el("p", { role: "status" }, T.banner), next,
    el("button", { type: "button", class: "erratum-secondary", click: () => leave(true) }, T.cancel));
  document.body.append(banner);
  count();
  (focus || next).focus({ preventScroll: true });
}

function count() {
  next.textContent = `${T.continue} (${chosen.size})`;
  next.disabled = !chosen.size;
}

function leave(refocus) {
  if (!selecting) return;
  selecting = false;
  document.documentElement.classList.remove("erratum-selecting");
  for (const t of document.querySelectorAll(".erratum-toggle")) t.parentElement.classList.remove("erratum-block"), t.remove();
  tabindex.forEach((old, f) => (old == null ? f.removeAttribute("tabindex") : f.setAttribute("tabindex", old)));
  tabindex.clear();
  banner.remove();
  if (refocus) button.focus();
}

// What erratum-dialog.js shares of this page and this file.
const context = () => ({ C, T, lang, el, where, textOf, button, more: enter });
// The dialog's module, imported once (a failed import is tried again on the next press).
const chunk = () => (dialog ||= import("./erratum-dialog.js").catch((e) => {
  dialog = null;
  throw e;
}));

// Open the dialog on these blocks (with the text the reader selected, if any).
async function go(list, selected) {
  leave(false);
  if (list.length) (await chunk()).open(list, selected, context());
}
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
      if (!hit.length) return;
      e.preventDefault();
      go(hit, String(sel));
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
