// The toxiclinks review page. Exports carry hostile text (markup, script, spreadsheet formulas in
// anchors and titles), so every value from the server is put into the page as text
// (textContent, never innerHTML); the page's Content-Security-Policy forbids inline script too.
"use strict";

const TOKEN_KEY = "toxiclinks-api-token";
const PAGE = 200;

const state = {
  audit: null,      // the open audit's summary
  sites: [],        // rows loaded so far
  total: 0,
  openSite: null,   // the site whose links are shown
  tab: "sites",
  filterTimer: null,
  retrainTimer: null,
  returnTo: null,   // the row to focus again after the token form
};

const $ = (id) => document.getElementById(id);

// An element with text children; attributes set as properties or attributes, never as markup.
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "className") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "text") node.textContent = String(value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function say(message, isError = false) {
  const status = $("status");
  status.textContent = message;
  status.classList.toggle("error", isError);
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, (data && data.error) || `${response.status} ${response.statusText}`);
  }
  return data;
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

function askToken(message) {
  // Where to come back to once the token is saved: the row being worked on.
  if (document.activeElement && document.activeElement.tagName === "TR") state.returnTo = document.activeElement;
  $("token-form").hidden = false;
  $("token-message").textContent = message || "";
  $("token-input").focus();
}

// A write: JSON with the bearer token; asks for the token when there is none or it is refused.
async function write(path, body) {
  if (!token()) {
    askToken("Saving needs the API token.");
    throw new ApiError(401, "enter the API token first");
  }
  try {
    return await api(path, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token()}` },
      body: JSON.stringify(body),
    });
  } catch (error) {
    if (error.status === 401) askToken("The token was refused: enter it again.");
    throw error;
  }
}

function fmt(value, digits = 0) {
  return typeof value === "number" ? value.toFixed(digits) : "–";
}

function verdictCell(verdict, recorded) {
  const cell = el("td", {}, el("span", { className: `verdict-${verdict}`, text: verdict }));
  if (recorded && recorded !== verdict) cell.append(el("span", { className: "was", text: `model: ${recorded}` }));
  return cell;
}

function safeLink(url) {
  // Only http(s) pages become links; anything else is shown as text.
  let parsed = null;
  try {
    parsed = new URL(url);
  } catch (_) {
    parsed = null;
  }
  if (!parsed || !["http:", "https:"].includes(parsed.protocol)) return el("span", { text: url });
  const a = el("a", { rel: "noopener noreferrer nofollow", target: "_blank", text: url });
  a.href = parsed.href;
  return a;
}

// ---- audits -------------------------------------------------------------------------------

async function loadState() {
  try {
    const info = await api("api/state");
    $("model").textContent = `model ${info.model_name} ${info.model_version} (${info.model_location})`;
  } catch (error) {
    say(`Cannot reach the service: ${error.message}`, true);
  }
}

async function loadAudits() {
  const data = await api("api/audits");
  const body = $("audits").tBodies[0];
  body.replaceChildren();
  $("no-audits").hidden = data.audits.length > 0;
  for (const audit of data.audits) {
    const row = el("tr", { tabindex: "-1", dataset: { id: audit.id } },
      el("td", { className: "wrap", text: audit.site }),
      el("td", { text: audit.created_at.replace("T", " ").replace("+00:00", "") }),
      el("td", { className: "num", text: audit.links.toLocaleString() }),
      el("td", { text: audit.exports.join(", ") }),
      el("td", { text: audit.outputs ? "yes" : "gone" }));
    row.addEventListener("click", () => openAudit(audit.id));
    body.append(row);
  }
  focusIfIdle(body.rows[0]);
}

async function openAudit(id) {
  say("Opening the audit…");
  try {
    state.audit = await api(`api/audits/${id}`);
  } catch (error) {
    say(error.message, true);
    return;
  }
  $("audits-view").hidden = true;
  $("audit-view").hidden = false;
  $("filter").value = "";
  renderSummary();
  showTab("sites");
  await loadSites(false);
  say(`Audit of ${state.audit.site}: ${state.audit.sites.toLocaleString()} referring sites.`);
  focusIfIdle($("sites").tBodies[0].rows[0]);
}

function backToAudits() {
  $("audit-view").hidden = true;
  $("audits-view").hidden = false;
  state.audit = null;
  loadAudits().catch((error) => say(error.message, true));
}

function renderSummary() {
  const a = state.audit;
  const box = $("audit-summary");
  const verdicts = Object.entries(a.verdicts).map(([k, v]) => `${k} ${v.toLocaleString()}`).join(" · ");
  box.replaceChildren(
    el("h2", { text: `Audit of ${a.site}` }),
    el("p", { text: `${a.created_at.replace("T", " ").replace("+00:00", " UTC")} · ${a.links.toLocaleString()} links from ` +
      `${a.sites.toLocaleString()} referring sites · ${a.exports.join(", ")}` }),
    el("p", { text: `Verdicts with your decisions: ${verdicts}` }),
    el("p", { text: `Your judgments on this audit's links: ${a.labelled.toxic} toxic, ${a.labelled.natural} natural` }));
  if (a.changes) {
    const c = a.changes;
    box.append(el("p", { text: `Since the audit before it: ${c.new} new links (${c.new_toxic} toxic), ${c.lost} lost, ` +
      `${c.became_toxic} became toxic` }));
    if (c.burst_weeks.length) {
      box.append(el("p", { className: "alarm", text: `Burst of new referring sites in the week of ${c.burst_weeks.join(", ")}: possible negative SEO` }));
    }
  }
  for (const note of a.notes) box.append(el("p", { className: "muted", text: note }));
}

async function refreshSummary() {
  if (!state.audit) return;
  state.audit = await api(`api/audits/${state.audit.id}`);
  renderSummary();
}

// ---- sites and links ----------------------------------------------------------------------

async function loadSites(append) {
  const offset = append ? state.sites.length : 0;
  const q = encodeURIComponent($("filter").value.trim());
  const data = await api(`api/audits/${state.audit.id}/sites?offset=${offset}&limit=${PAGE}&q=${q}`);
  state.total = data.total;
  const body = $("sites").tBodies[0];
  if (!append) {
    state.sites = [];
    body.replaceChildren();
    closeLinks();
  }
  for (const site of data.sites) {
    state.sites.push(site);
    body.append(siteRow(site));
  }
  $("sites-count").textContent = `${state.sites.length.toLocaleString()} of ${state.total.toLocaleString()} sites, most risky first`;
  $("more-sites").hidden = state.sites.length >= state.total;
}

function decisionText(site) {
  const parts = [];
  if (site.rule === "allow") parts.push("always allow");
  if (site.rule === "deny") parts.push("always disavow");
  if (site.marked_toxic) parts.push(`marked toxic (${site.marked_toxic})`);
  if (site.marked_natural) parts.push(`marked natural (${site.marked_natural})`);
  return parts.join(", ");
}

function markButtons(handler, choices) {
  const cell = el("td", { className: "marks" });
  for (const [action, label, what, key] of choices) {
    cell.append(el("button", {
      type: "button", tabindex: "-1", title: `${what} (${key})`, dataset: { action }, text: label,
      onclick: (event) => { event.stopPropagation(); handler(action); },
    }));
  }
  return cell;
}

// [action, button label, what it does, key]
const SITE_CHOICES = [["toxic", "Toxic", "mark every link of the site toxic", "t"],
  ["natural", "Natural", "mark every link of the site natural", "n"], ["allow", "Allow", "always allow the site", "a"],
  ["deny", "Disavow", "always disavow the site", "d"], ["clear", "Clear", "clear the site's allow/disavow rule", "c"]];
const LINK_CHOICES = [["toxic", "Toxic", "mark this link toxic", "t"], ["natural", "Natural", "mark this link natural", "n"]];

function siteRow(site) {
  const action = el("td", {}, site.action);
  if (site.audit_action && site.audit_action !== site.action) {
    action.append(el("span", { className: "was", text: `audit: ${site.audit_action}` }));
  }
  const row = el("tr", { tabindex: "-1", dataset: { site: site.site } },
    el("td", { className: "wrap", text: site.site }),
    el("td", { className: "num", text: site.links.toLocaleString() }),
    el("td", { className: "num", text: site.toxic.toLocaleString() }),
    el("td", { className: "num", text: fmt(site.worst_toxicity) }),
    el("td", { text: site.reasons }),
    action,
    el("td", { className: "decided", text: decisionText(site) }),
    markButtons((choice) => decideSite(site.site, choice), SITE_CHOICES));
  row.addEventListener("click", () => { focusRow(row); openLinks(site.site); });
  if (site.site === state.openSite) row.classList.add("open");
  return row;
}

function findRow(tbody, key, value) {
  return Array.from(tbody.rows).find((row) => row.dataset[key] === value) || null;
}

function replaceSite(site) {
  const body = $("sites").tBodies[0];
  const old = findRow(body, "site", site.site);
  const index = state.sites.findIndex((s) => s.site === site.site);
  if (index >= 0) state.sites[index] = site;
  if (!old) return;
  const focused = document.activeElement === old;
  const fresh = siteRow(site);
  old.replaceWith(fresh);
  if (focused) focusRow(fresh);
}

async function decideSite(site, action) {
  try {
    const result = await write(`api/audits/${state.audit.id}/decisions`, { site, action });
    replaceSite(result.site);
    if (state.openSite === site) renderLinks(result.links, false);
    const what = { toxic: "marked toxic", natural: "marked natural", allow: "always allowed", deny: "always disavowed", clear: "rule cleared" }[action];
    say(`${site}: ${what}${result.stored ? ` (${result.stored} links judged)` : ""}.`);
    refreshSummary().catch(() => {});
  } catch (error) {
    say(`${site}: ${error.message}`, true);
  }
}

async function decideLink(link, action) {
  try {
    const result = await write(`api/audits/${state.audit.id}/decisions`,
      { source_url: link.source_url, target_url: link.target_url, action });
    replaceSite(result.site);
    renderLinks(result.links, false);
    say(`Link from ${link.source_url} marked ${action}.`);
    refreshSummary().catch(() => {});
  } catch (error) {
    say(`${link.source_url}: ${error.message}`, true);
  }
}

async function openLinks(site, focusFirst = false) {
  try {
    const data = await api(`api/audits/${state.audit.id}/links?site=${encodeURIComponent(site)}`);
    state.openSite = site;
    for (const row of $("sites").tBodies[0].rows) row.classList.toggle("open", row.dataset.site === site);
    renderLinks(data, focusFirst);
  } catch (error) {
    say(error.message, true);
  }
}

function renderLinks(data, focusFirst) {
  const pane = $("links-pane");
  pane.hidden = false;
  const shown = data.links.length < data.total ? ` (the ${data.links.length} most toxic)` : "";
  const noun = data.total === 1 ? "link" : "links";
  $("links-heading").textContent = `${data.total.toLocaleString()} ${noun} from ${data.site}${shown}`;
  const focusedIndex = Array.from($("links").tBodies[0].rows).indexOf(document.activeElement);
  const body = $("links").tBodies[0];
  body.replaceChildren();
  data.links.forEach((link, i) => {
    const row = el("tr", { tabindex: "-1", dataset: { index: i } },
      el("td", { className: "wrap" }, safeLink(link.source_url),
        el("span", { className: "was", text: link.target_url ? `→ ${link.target_url}` : "" })),
      el("td", { className: "wrap", text: link.anchor === null ? "" : link.anchor }),
      el("td", { className: "wrap", text: link.title === null ? "" : link.title }),
      el("td", { className: "num", text: fmt(link.toxicity, 1) }),
      verdictCell(link.verdict, link.recorded_verdict),
      el("td", { text: link.reasons + (link.label ? ` · you: ${link.label}` : "") }),
      markButtons((choice) => decideLink(link, choice), LINK_CHOICES));
    row.link = link;
    row.addEventListener("click", () => focusRow(row));
    body.append(row);
  });
  if (focusFirst) focusRow(body.rows[0]);
  else if (focusedIndex >= 0 && body.rows[focusedIndex]) focusRow(body.rows[focusedIndex]);
}

function closeLinks() {
  state.openSite = null;
  $("links-pane").hidden = true;
  $("links").tBodies[0].replaceChildren();
}

// ---- disavow ------------------------------------------------------------------------------

async function loadDisavow() {
  const id = state.audit.id;
  const box = $("disavow-summary");
  box.replaceChildren(el("p", { className: "muted", text: "Building the file…" }));
  $("disavow-notes").replaceChildren();
  $("disavow-preview").textContent = "";
  try {
    const d = await api(`api/audits/${id}/disavow`);
    box.replaceChildren(
      el("p", { text: `${d.lines.toLocaleString()} lines, ${d.bytes.toLocaleString()} bytes: ${d.kept.toLocaleString()} entries ` +
        `of the file you had, ${d.added_domains.length.toLocaleString()} domains and ${d.added_urls.length.toLocaleString()} URLs added.` }));
    if (d.full) box.append(el("p", { className: "alarm", text: d.full }));
    $("download-disavow").href = `api/audits/${id}/disavow.txt`;
    $("download-disavow").hidden = false;
    $("download-overflow").hidden = !d.overflow;
    if (d.overflow) $("download-overflow").href = `api/audits/${id}/disavow-overflow.txt`;
    for (const note of d.notes) $("disavow-notes").append(el("li", { text: note }));
    $("disavow-preview").textContent = d.preview.join("\n") + (d.lines > d.preview.length ? "\n…" : "");
  } catch (error) {
    $("download-disavow").hidden = true;
    $("download-overflow").hidden = true;
    box.replaceChildren(el("p", { className: "alarm", text: error.message }));
  }
}

// ---- retrain ------------------------------------------------------------------------------

async function startRetrain(dryRun) {
  try {
    await write("api/retrain", { dry_run: dryRun });
    say(dryRun ? "Measuring a challenger…" : "Retraining…");
    pollRetrain();
  } catch (error) {
    say(`Retrain: ${error.message}`, true);
  }
}

async function pollRetrain() {
  clearTimeout(state.retrainTimer);
  let job;
  try {
    job = await api("api/retrain");
  } catch (error) {
    say(`Retrain: ${error.message}`, true);
    return;
  }
  renderRetrain(job);
  if (job.state === "running") state.retrainTimer = setTimeout(pollRetrain, 1000);
  else if (job.state === "done") {
    say(`Retrain: ${job.result.decision}`);
    loadState();
  } else if (job.state === "failed") say(`Retrain failed: ${job.error}`, true);
}

const METRIC_NAMES = {
  user_error_rate: "Error rate on your links",
  user_brier: "Brier score on your links (lower is better)",
  user_roc_auc: "ROC-AUC on your links",
  seed_roc_auc: "ROC-AUC on the seed hold-out",
  seed_brier: "Brier score on the seed hold-out",
  casebook_roc_auc: "ROC-AUC on the casebook's held-out sites",
};

function renderRetrain(job) {
  $("retrain-run").disabled = job.state === "running";
  $("retrain-dry").disabled = job.state === "running";
  $("retrain-log").textContent = job.log.join("\n");
  const box = $("retrain-state");
  const table = $("retrain-table");
  $("retrain-notes").replaceChildren();
  if (job.state === "idle") {
    box.replaceChildren(el("p", { className: "muted", text: "No retraining has run since the service started." }));
    table.hidden = true;
    return;
  }
  if (job.state === "running") {
    box.replaceChildren(el("p", { text: `Running since ${job.started_at}…` }));
    return;
  }
  if (job.state === "failed") {
    box.replaceChildren(el("p", { className: "alarm", text: job.error }));
    table.hidden = true;
    return;
  }
  const r = job.result;
  box.replaceChildren(
    el("p", { className: "decided", id: "retrain-decision", text: r.decision }),
    el("p", { text: `${r.user_links.toLocaleString()} labelled links · champion ${r.champion_version}` +
      (r.challenger_version ? ` · challenger ${r.challenger_version}` : "") +
      ` · serving ${r.serving_version}${r.reloaded ? " (reloaded)" : ""}` }));
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const metric of r.metrics) {
    body.append(el("tr", { dataset: { metric } },
      el("td", { text: METRIC_NAMES[metric] || metric }),
      el("td", { className: "num", text: fmt(r.rows.champion[metric], 3) }),
      el("td", { className: "num", text: fmt(r.rows.challenger[metric], 3) })));
  }
  table.hidden = false;
  for (const note of r.notes) $("retrain-notes").append(el("li", { text: note }));
}

// ---- tabs, focus and keys -----------------------------------------------------------------

function showTab(name) {
  state.tab = name;
  for (const button of document.querySelectorAll(".tab")) button.setAttribute("aria-pressed", String(button.dataset.tab === name));
  for (const tab of ["sites", "disavow", "retrain"]) $(`tab-${tab}`).hidden = tab !== name;
  if (name === "disavow") loadDisavow();
  if (name === "retrain") pollRetrain();
}

function focusRow(row) {
  if (!row) return;
  for (const other of row.parentElement.rows) other.tabIndex = -1;
  row.tabIndex = 0;
  row.focus();
}

// Focus a row a view opens on, unless the person is typing somewhere (the token, the filter).
function focusIfIdle(row) {
  const active = document.activeElement;
  if (active && (active.tagName === "INPUT" || active.tagName === "TEXTAREA")) return;
  focusRow(row);
}

function moveFocus(step) {
  const row = document.activeElement;
  let tbody = row && row.tagName === "TR" ? row.parentElement : null;
  if (!tbody) {
    tbody = $("audits-view").hidden ? $("sites").tBodies[0] : $("audits").tBodies[0];
    focusRow(tbody.rows[0]);
    return;
  }
  const rows = Array.from(tbody.rows);
  const next = rows[Math.min(rows.length - 1, Math.max(0, rows.indexOf(row) + step))];
  focusRow(next);
  next.scrollIntoView({ block: "nearest" });
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target.tagName === "INPUT" || target.tagName === "TEXTAREA") {
    if (event.key === "Escape") target.blur();
    return;
  }
  const key = event.key;
  if (key === "j" || key === "ArrowDown") { moveFocus(1); event.preventDefault(); return; }
  if (key === "k" || key === "ArrowUp") { moveFocus(-1); event.preventDefault(); return; }
  const row = target.tagName === "TR" ? target : null;
  if (!$("audits-view").hidden) {
    if (key === "Enter" && row) { openAudit(Number(row.dataset.id)); event.preventDefault(); }
    return;
  }
  if (key === "1" || key === "2" || key === "3") { showTab(["sites", "disavow", "retrain"][Number(key) - 1]); return; }
  if (key === "/") { showTab("sites"); $("filter").focus(); event.preventDefault(); return; }
  if (state.tab !== "sites") return;
  const inLinks = row && row.parentElement === $("links").tBodies[0];
  const inSites = row && row.parentElement === $("sites").tBodies[0];
  if (key === "Escape" && inLinks) {
    focusRow(findRow($("sites").tBodies[0], "site", state.openSite));
    event.preventDefault();
    return;
  }
  if ((key === "Enter" || key === "o") && inSites) { openLinks(row.dataset.site, true); event.preventDefault(); return; }
  const action = { t: "toxic", n: "natural", a: "allow", d: "deny", c: "clear" }[key];
  if (!action || !(inLinks || inSites)) return;
  event.preventDefault();
  if (inSites) decideSite(row.dataset.site, action);
  else if (action === "toxic" || action === "natural") decideLink(row.link, action);
  else decideSite(state.openSite, action);
}

function init() {
  document.addEventListener("keydown", onKey);
  $("token-button").addEventListener("click", () => askToken(token() ? "A token is saved for this tab." : ""));
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("token-input").value.trim();
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
    $("token-input").value = "";
    $("token-form").hidden = true;
    say(value ? "Token saved for this tab." : "Token removed.");
    const back = state.returnTo && state.returnTo.isConnected ? state.returnTo : null;
    state.returnTo = null;
    if (back) focusRow(back);
    else moveFocus(0);
  });
  $("back").addEventListener("click", backToAudits);
  for (const button of document.querySelectorAll(".tab")) button.addEventListener("click", () => showTab(button.dataset.tab));
  $("more-sites").addEventListener("click", () => loadSites(true).catch((error) => say(error.message, true)));
  $("filter").addEventListener("input", () => {
    clearTimeout(state.filterTimer);
    state.filterTimer = setTimeout(() => loadSites(false).catch((error) => say(error.message, true)), 250);
  });
  $("retrain-run").addEventListener("click", () => startRetrain(false));
  $("retrain-dry").addEventListener("click", () => startRetrain(true));
  loadState();
  loadAudits().catch((error) => say(`Cannot list the audits: ${error.message}`, true));
}

document.addEventListener("DOMContentLoaded", init);
