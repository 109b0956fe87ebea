// mkdocs-erratum reader widget: select the blocks (data-erratum-src="PATH#LA-LB") that hold
// an error, say what is wrong, open a prefilled GitHub issue or send it to the service.
// Settings: <script id="erratum-config">. Nothing is fetched before the button is pressed.
const ATTR = "data-erratum-src";
const C = JSON.parse(document.getElementById("erratum-config").textContent);
const T = C.strings;
const HERE = import.meta.url;
const sources = {}; // repository path -> Promise of its lines (null where not published)
const NOT_SELECTABLE = /^(TABLE|THEAD|TBODY|TFOOT|TR|UL|OL|DL|HR|IMG|BR|SUMMARY|DETAILS)$/;
// A widget_blocks this browser cannot parse must not break blocks(): all blocks stay.
const ONLY = ((s) => { try { return s && document.querySelector(s), s; } catch { console.warn("erratum: invalid widget_blocks", s); } })(C.blocks);
let button, banner, dialog, selecting = false;
const chosen = new Set();

function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") e.addEventListener(k, v);
    else if (v != null && v !== false) e.setAttribute(k, v === true ? "" : v);
  }
  e.append(...kids);
  return e;
}
const span = (b) => (b.start === b.end ? `${T.body_line} ${b.start}` : `${T.body_lines} ${b.start}–${b.end}`);
const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));
const where = (b) => /^(.+)#L(\d+)-L(\d+)$/.exec(b.getAttribute(ATTR) || "");
const hex = (buf) => [...new Uint8Array(buf)].map((x) => x.toString(16).padStart(2, "0")).join("");
const digest = (data, hash = "SHA-256") => crypto.subtle.digest(hash, data);
const sha256 = async (text) => hex(await digest(new TextEncoder().encode(text)));
// Storage can be switched off (privacy settings, sandboxed frames): the dialog still works.
const keep = (f) => { try { return f(); } catch { return null; } };
const fence = (text) => { let f = "```"; while (text.includes(f)) f += "`"; return f; };
// Reader text in an issue: mkdocs_erratum.text_rules.neutralise, rule for rule.
const Z = "\u200b", inert = (s) => [[/&(?!(?:lt|gt|amp);)(?=#?[A-Za-z0-9])/g, "&amp;"], [/<(?=[A-Za-z/!?])/g, "&lt;"],
  [/(?<![\w@])@(?=[A-Za-z0-9])/g, "@" + Z], [/#(?=\d)/g, "#" + Z], [/\b(GH-)(?=\d)/gi, "$1" + Z],
  [/\b([cfr])(?=(?:lose[sd]?|ix(?:e[sd])?|esolve[sd]?)\b:?\s*(?:#|GH-|[\w.-]+\/[\w.-]+#|[A-Za-z][\w+.-]*:\/\/|www\.))/gi, "$1" + Z],
  [/(?<=[A-Za-z0-9+.-]):\/\//g, ":" + Z + "//"], [/\b(www)(?=\.)/gi, "$1" + Z]].reduce((t, [r, w]) => t.replace(r, w), s);

// -- Selection mode -------------------------------------------------------------------
function textOf(node) {
  const copy = node?.cloneNode(true);
  copy?.querySelectorAll(".headerlink, .erratum-toggle").forEach((x) => x.remove());
  return copy?.textContent.replace(/\s+/g, " ").trim() || "";
}

function ownText(b) {
  const walk = document.createTreeWalker(b, NodeFilter.SHOW_TEXT);
  while (walk.nextNode()) {
    const t = walk.currentNode;
    if (t.data.trim() && t.parentElement.closest(`[${ATTR}]`) === b) return true;
  }
  return false;
}

// Annotated blocks a reader can pick: the innermost ones, plus containers with text of
// their own (a list item holding a nested list); never table rows or lists themselves.
function blocks() {
  return [...document.querySelectorAll(`[${ATTR}]`)].filter(
    (b) => where(b) && !NOT_SELECTABLE.test(b.tagName) && (!ONLY || b.matches(ONLY)) &&
      b.getClientRects().length && (ownText(b) || !b.querySelector(`[${ATTR}]`)),
  );
}

function enter() {
  if (selecting) return;
  selecting = true;
  chosen.clear();
  document.documentElement.classList.add("erratum-selecting");
  let focus;
  for (const b of blocks()) {
    const label = (textOf(b) || b.querySelector("img")?.alt || b.getAttribute(ATTR)).replace(/\s+/g, " ").slice(0, 80);
    const t = el("button", { type: "button", class: "erratum-toggle", "aria-pressed": "false", "aria-label": label });
    t.addEventListener("click", (e) => {
      e.preventDefault();
      e.stopPropagation();
      const on = !chosen.has(b);
      on ? chosen.add(b) : chosen.delete(b);
      t.setAttribute("aria-pressed", on);
      b.classList.toggle("erratum-selected", on);
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
    if (!focus && b.getBoundingClientRect().bottom > 0) focus = t;
  }
  const next = el("button", { type: "button", class: "erratum-continue", click: () => go([...chosen]) });
  banner = el("div", { class: "erratum-banner", role: "region", "aria-label": T.button },
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

function go(list, quoted = "") {
  leave(false);
  list.sort((a, b) => (a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING ? -1 : 1));
  const picks = [];
  for (const [, path, a, b] of list.map(where)) {
    const p = { path, start: +a, end: +b };
    // One entry per range: a cell takes its row's range; a range inside another is kept once.
    const outer = picks.find((o) => o.path === p.path && o.start <= p.start && p.end <= o.end);
    if (outer) continue;
    for (let i = picks.length - 1; i >= 0; i--) {
      if (picks[i].path === p.path && p.start <= picks[i].start && picks[i].end <= p.end) picks.splice(i, 1);
    }
    picks.push(p);
  }
  if (picks.length) open(picks, quoted);
}

// -- The dialog -------------------------------------------------------------------------
function lines(path) {
  const url = new URL(`src/${path.split("/").map(encodeURIComponent).join("/")}.json`, HERE);
  sources[path] ||= fetch(url).then((r) => {
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    return r.json();
  }).then((j) => j.lines);
  sources[path].catch(() => delete sources[path]); // let a later attempt retry
  return sources[path];
}

async function open(picks, quoted) {
  const opener = document.activeElement;
  const key = `erratum:${location.pathname}:${picks.map((p) => `${p.path}#L${p.start}-L${p.end}`).join(",")}`;
  const saved = JSON.parse(keep(() => sessionStorage.getItem(key)) || "null") ||
    { id: `r-${hex(crypto.getRandomValues(new Uint8Array(8)))}`, comment: quoted, edits: {} };
  const save = () => {
    saved.comment = comment.value;
    picks.forEach((p, i) => p.original != null && (saved.edits[i] = boxes[i].value));
    keep(() => sessionStorage.setItem(key, JSON.stringify(saved)));
  };
  const boxes = picks.map((p, i) => el("textarea", { id: `erratum-b${i}`, rows: 4, maxlength: 20000, input: save }));
  const fixes = el("div"); // the correction boxes, shown once the original text is loaded
  const comment = el("textarea", { id: "erratum-comment", rows: 3, maxlength: 5000, input: save });
  comment.value = saved.comment;
  const status = el("div", { class: "erratum-status", role: "status" });
  const primary = el("button", { type: "submit", class: "erratum-primary", disabled: true }, C.service ? T.send : T.open_issue);
  const cancel = el("button", { type: "button", class: "erratum-secondary", click: () => dialog.close() }, T.cancel);
  const honeypot = el("input", { name: "website", tabindex: -1, autocomplete: "off", "aria-hidden": "true" });
  const form = el("form", { method: "dialog" },
    el("h2", { id: "erratum-title" }, T.button),
    el("label", { for: "erratum-comment" }, T.comment), comment, fixes,
    C.service ? el("div", { class: "erratum-hp" }, honeypot) : "",
    status,
    el("div", { class: "erratum-actions" }, primary, cancel));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const report = {
      page_url: location.origin + location.pathname,
      blocks: picks.map((p, i) => ({
        path: p.path, start: p.start, end: p.end, original: p.original, original_sha256: p.hash,
        replacement: boxes[i].value === p.original ? null : boxes[i].value,
      })),
      comment: comment.value, repository: C.repository, commit: C.commit, branch: C.branch,
      id: saved.id, reporter: null, version: 1,
    };
    const done = () => { keep(() => sessionStorage.removeItem(key)); cancel.textContent = T.close; };
    (C.service ? send(report, honeypot.value, show, primary, done) : openIssue(report, show)).then(() => C.service || (cancel.textContent = T.close));
  });
  function show(text, link, full) {
    status.replaceChildren(text);
    if (link && /^https?:\/\//.test(link)) status.append(" ", el("a", { href: link, target: "_blank", rel: "noopener" }, link));
    if (full != null) {
      const copy = el("textarea", { readonly: true, rows: 6, "aria-label": T.copy_below });
      copy.value = full;
      status.append(copy);
    }
  }
  dialog?.remove();
  dialog = el("dialog", { class: "erratum-dialog", "aria-labelledby": "erratum-title" }, form);
  dialog.addEventListener("close", () => (opener?.isConnected && opener !== document.body ? opener : button).focus());
  document.body.append(dialog);
  dialog.showModal();
  show(T.loading);
  try {
    for (const [i, p] of picks.entries()) {
      const all = await lines(p.path);
      const text = all.slice(p.start - 1, p.end);
      if (text.length !== p.end - p.start + 1 || text.includes(null)) throw new Error("range not published");
      p.original = text.join("\n");
      p.hash = await sha256(p.original);
      boxes[i].value = saved.edits[i] ?? p.original;
    }
    fixes.append(...picks.flatMap((p, i) => [
      el("label", { for: `erratum-b${i}` }, `${T.correction} — ${p.path}, ${span(p)}`),
      boxes[i]]));
    primary.disabled = false;
    show("");
  } catch {
    show(T.load_failed);
  }
}

// -- GitHub issue -------------------------------------------------------------------------
function permalink(b) {
  const ref = encodeURIComponent(C.commit || C.branch || "HEAD");
  const path = b.path.split("/").map(encodeURIComponent).join("/");
  return `https://github.com/${C.repository}/blob/${ref}/${path}#L${b.start}-L${b.end}`;
}

function unifiedDiff({ path, start, original, replacement }) {
  const a = original.split("\n"), b = replacement.split("\n");
  let p = 0, s = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  while (s < a.length - p && s < b.length - p && a[a.length - 1 - s] === b[b.length - 1 - s]) s++;
  const out = [`--- a/${path}`, `+++ b/${path}`, `@@ -${start},${a.length} +${start},${b.length} @@`,
    ...a.slice(0, p).map((l) => ` ${l}`), ...a.slice(p, a.length - s).map((l) => `-${l}`),
    ...b.slice(p, b.length - s).map((l) => `+${l}`), ...a.slice(a.length - s).map((l) => ` ${l}`)];
  return out.join("\n");
}

// The machine-readable block, exactly as mkdocs_erratum.report.format_report_block writes it.
function reportBlock(report) {
  const json = JSON.stringify(report);
  const f = fence(json);
  return `${f}json erratum-report\n${json}\n${f}`;
}

// Quoted text is indented (a code block): no line of it can start a fence or mention anyone.
function issueBody(r, quote = true, diff = true, data = r) {
  const out = [`${T.body_page}${T.colon} ${r.page_url}`, ""];
  for (const b of r.blocks) {
    out.push(`#### ${inert(b.path)}, ${span(b)}`, permalink(b), "");
    if (quote && b.original != null) out.push(b.original.split("\n").map((l) => `    ${l}`).join("\n"), "");
    if (diff && b.replacement != null) {
      const d = unifiedDiff(b), f = fence(d);
      out.push(`${T.body_change}${T.colon}`, "", `${f}diff`, d, f, "");
    }
  }
  if (r.comment.trim()) out.push(`#### ${T.body_comment}`, "", r.comment.split("\n").map((l) => `> ${inert(l)}`).join("\n"), "");
  out.push(reportBlock(data));
  return out.join("\n");
}

function issueUrl(title, body) {
  const q = new URLSearchParams();
  if (C.form) q.set("template", C.form);
  q.set("title", title);
  q.set(C.form ? "report" : "body", body);
  if (C.labels.length) q.set("labels", C.labels.join(","));
  return `https://github.com/${C.repository}/issues/new?${q}`;
}

// As the no-JS link (widget.first_heading): the first h1, else the title that link carries.
const pageTitle = () => textOf(document.querySelector("article h1, [role=main] h1, main h1")) || document.querySelector("[data-erratum-title]")?.dataset.erratumTitle || document.title;

// Shorten quoted text first, then the texts of the JSON block, never its locators; if
// still too long, copy the full body to the clipboard and open a short issue.
async function openIssue(r, show) {
  const title = fill(T.issue_title, { title: pageTitle() });
  const bare = (texts) => ({ ...r, comment: texts ? r.comment : "", blocks: r.blocks.map((b) => ({ ...b, original: null, replacement: texts ? b.replacement : null })) });
  for (const body of [issueBody(r), issueBody(r, false), issueBody(r, false, true, bare(true)), issueBody(r, false, false, bare(true))]) {
    const url = issueUrl(title, body);
    if (url.length <= C.cap) {
      window.open(url, "_blank", "noopener");
      return show(T.opened);
    }
  }
  const full = issueBody(r);
  const short = [T.body_pasted, "", `${T.body_page}${T.colon} ${r.page_url}`, "", ...r.blocks.map(permalink), "", reportBlock({ ...bare(false), truncated: true })].join("\n");
  let copied = false;
  try {
    await navigator.clipboard.writeText(full);
    copied = true;
  } catch { /* shown below for a manual copy */ }
  window.open(issueUrl(title, short), "_blank", "noopener");
  show(copied ? T.copied : T.copy_below, null, copied ? null : full);
}

// -- Service ------------------------------------------------------------------------------
const b64 = (data) => btoa(JSON.stringify(data));

// ALTCHA proof of work, as the service's altcha package makes it (v1): find the number n
// with sha(salt + n) = challenge; hashes run in batches to keep SubtleCrypto busy.
async function solve(ch) {
  const { algorithm = "SHA-256", challenge, salt, signature } = ch;
  const enc = new TextEncoder(), max = ch.maxNumber ?? ch.maxnumber ?? 1e6;
  for (let n = 0; n <= max; n += 200) {
    const found = await Promise.all(Array.from({ length: 200 }, async (_, i) => hex(await digest(enc.encode(salt + (n + i)), algorithm))));
    const i = found.indexOf(challenge);
    if (i >= 0) return b64({ algorithm, challenge, number: n + i, salt, signature });
  }
  throw new Error("proof of work not found");
}

async function send(report, honeypot, show, primary, done) {
  primary.disabled = true;
  show(T.sending);
  // The reader sees the service's words or ours, never a browser's ("Failed to fetch").
  const said = (message) => Object.assign(new Error(message), { said: true });
  try {
    const asked = await fetch(new URL("api/challenge", C.service));
    const challenge = await asked.json().catch(() => ({}));
    if (!asked.ok) throw said(challenge.message || "");
    const res = await fetch(new URL("api/reports", C.service), {
      method: "POST",
      headers: { "Content-Type": "application/json", "Idempotency-Key": report.id },
      body: JSON.stringify({ report, altcha: await solve(challenge), honeypot }),
    });
    const answer = await res.json().catch(() => ({}));
    if (res.status >= 400 && res.status < 500 && res.status !== 429) {
      primary.disabled = false; // the reader may change the text and send again
      return show(fill(T.rejected, { reason: answer.message || answer.error || res.status }));
    }
    if (!res.ok) throw said(answer.message || "");
  } catch (e) {
    primary.disabled = false;
    return show(fill(T.send_failed, { message: e.said ? e.message : "" }).replace(/ {2,}/g, " "));
  }
  done();
  // The status URL per the API, relative to service_url (which may carry a path prefix).
  const url = new URL(`api/reports/${report.id}`, C.service);
  // Poll while the dialog stays open; the report is stored whatever the reader does.
  for (let wait = 400; primary.closest("dialog[open]"); wait = Math.min(wait * 1.5, 5000)) {
    let s = {};
    try {
      s = await (await fetch(url)).json();
    } catch { /* keep polling: the report is stored */ }
    if (s.state === "rejected") return show(fill(T.rejected, { reason: s.reason || "" }));
    if (/^(issue_opened|pull_request_opened|branch_created)$/.test(s.state)) return show(fill(T[s.state], s), s.url);
    show(T.queued);
    await new Promise((ok) => setTimeout(ok, wait));
  }
}

// -- Start ----------------------------------------------------------------------------------
function start() {
  if (button?.isConnected) return;
  let holder = document.querySelector(".erratum-nojs");
  if (!holder) document.body.append((holder = el("p", { class: "erratum-nojs" })));
  button = el("button", { type: "button", class: "erratum-button", click: enter }, T.button);
  holder.replaceChildren(button);
}

// SubtleCrypto (hashes, proof of work) needs HTTPS: elsewhere the plain issue link stays.
if (window.crypto?.subtle) {
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && selecting && !dialog?.open) return leave(true);
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey) || dialog?.open) return;
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
      go(inner, text ? `${text.split("\n").map((l) => `> ${l}`).join("\n")}\n\n` : "");
    }
  });

  start();
  // Material's instant navigation swaps the page without reloading: start again on each page.
  window.document$?.subscribe?.(() => {
    leave(false);
    if (dialog?.open) dialog.close();
    start();
  });
}
