// deck's pages: each fetches deck's JSON and renders it with DOM calls (never innerHTML of
// data), so job names, logs and test output cannot inject markup.
"use strict";

const FINAL = new Set(["success", "failure", "aborted", "error"]);
const POLL_MS = 2000;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function params() {
  return new URLSearchParams(window.location.search);
}

async function getJSON(url) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(url + ": " + response.status + " " + (await response.text()));
  return response.json();
}

function stateOf(job) {
  return (job.status && job.status.state) || "triggered";
}

function stateBadge(state) {
  return el("span", { class: "state state-" + state }, state);
}

function refsOf(job) {
  return job.spec.refs || (job.spec.extra_refs || [])[0] || null;
}

function time(value) {
  if (!value) return "";
  const date = new Date(value);
  return isNaN(date) ? value : date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function duration(job) {
  const status = job.status || {};
  if (!status.startTime) return "";
  const end = status.completionTime ? new Date(status.completionTime) : new Date();
  let seconds = Math.max(0, Math.round((end - new Date(status.startTime)) / 1000));
  const hours = Math.floor(seconds / 3600);
  seconds -= hours * 3600;
  const minutes = Math.floor(seconds / 60);
  seconds -= minutes * 60;
  return (hours ? hours + "h" : "") + (hours || minutes ? minutes + "m" : "") + seconds + "s";
}

function jobLink(job) {
  return el("a", { href: "/job?prowjob=" + encodeURIComponent(job.metadata.name) }, job.spec.job);
}

function revision(job) {
  const refs = refsOf(job);
  if (!refs) return "";
  if (refs.pulls && refs.pulls.length) {
    const span = el("span");
    refs.pulls.forEach((pull, i) => {
      if (i) span.append(", ");
      const href = "/pr?org=" + encodeURIComponent(refs.org) + "&repo=" +
        encodeURIComponent(refs.repo) + "&pr=" + pull.number;
      span.append(el("a", { href, class: "pull" }, "#" + pull.number));
    });
    return span;
  }
  return (refs.base_ref || "") + (refs.base_sha ? " (" + refs.base_sha.slice(0, 7) + ")" : "");
}

function fillSelect(select, values, chosen) {
  for (const value of values) select.append(el("option", { value }, value));
  select.value = chosen || "";
}

async function indexPage() {
  const query = params();
  for (const name of ["job", "author", "pull"]) {
    const input = document.getElementById("f-" + name);
    if (input) input.value = query.get(name) || "";
  }
  document.getElementById("f-type").value = query.get("type") || "";
  document.getElementById("f-state").value = query.get("state") || "";
  const data = await getJSON("/deck/jobs.json?" + query.toString());
  fillSelect(document.getElementById("f-repo"), data.repos, query.get("repo"));
  const names = document.getElementById("job-names");
  for (const name of data.jobs) names.append(el("option", { value: name }));
  const body = document.querySelector("#jobs tbody");
  body.replaceChildren();
  for (const job of data.items) {
    const refs = refsOf(job);
    const authors = refs && refs.pulls ? refs.pulls.map((p) => p.author).join(", ") : "";
    const logLink = el("a", { href: "/log?prowjob=" + encodeURIComponent(job.metadata.name) }, "log");
    body.append(el("tr", { class: "job-row", "data-job": job.spec.job, "data-state": stateOf(job) },
      el("td", null, stateBadge(stateOf(job))),
      el("td", null, jobLink(job)),
      el("td", null, refs ? refs.org + "/" + refs.repo : ""),
      el("td", null, revision(job)),
      el("td", null, authors),
      el("td", null, job.spec.type),
      el("td", null, time(job.status && job.status.startTime)),
      el("td", null, duration(job)),
      el("td", null, logLink)));
  }
  document.getElementById("summary").textContent = data.items.length + " jobs";
}

function renderBuildLog(container, groups) {
  container.replaceChildren();
  if (!groups.length) {
    container.append(el("p", { class: "muted" }, "No build log yet."));
    return;
  }
  for (const group of groups) {
    const pre = el("pre", { class: "log-group" });
    for (const line of group.lines) {
      pre.append(el("span", { class: "log-line" + (line.highlighted ? " highlighted" : "") },
        el("span", { class: "num" }, line.number), line.text));
    }
    if (group.skip) {
      container.append(el("details", { class: "skipped" },
        el("summary", null, "Show " + group.lines.length + " hidden lines"), pre));
    } else {
      container.append(pre);
    }
  }
}

function renderJunit(container, files) {
  container.replaceChildren();
  if (!files.length) {
    container.append(el("p", { class: "muted" }, "No JUnit results."));
    return;
  }
  for (const file of files) {
    container.append(el("h3", null, file.name));
    if (file.error) {
      container.append(el("p", { class: "junit-failed" }, "Could not read: " + file.error));
      continue;
    }
    const r = file.results;
    container.append(el("p", { class: "junit-summary" },
      r.failed + " failed, " + r.skipped + " skipped, " + r.passed + " passed"));
    const table = el("table", { class: "junit" });
    for (const test of r.tests) {
      const name = (test.class ? test.class + " " : "") + test.name;
      const detail = test.message ? el("pre", null, test.message) : null;
      table.append(el("tr", { class: "junit-" + test.outcome },
        el("td", null, test.outcome), el("td", null, name, detail),
        el("td", null, test.time ? test.time.toFixed(2) + "s" : "")));
    }
    container.append(table);
  }
}

async function post(url) {
  const response = await fetch(url, { method: "POST" });
  return response.status + " " + (await response.text());
}

async function jobPage() {
  const name = params().get("prowjob");
  if (!name) {
    document.getElementById("summary").textContent = "No prowjob given.";
    return;
  }
  const q = "?prowjob=" + encodeURIComponent(name);
  document.getElementById("rerun").onclick = async () => {
    document.getElementById("action-result").textContent = await post("/rerun" + q);
  };
  document.getElementById("abort").onclick = async () => {
    document.getElementById("action-result").textContent = await post("/abort" + q);
  };
  const refresh = async () => {
    let data;
    try {
      data = await getJSON("/deck/job.json" + q);
    } catch (e) {
      document.getElementById("summary").textContent = String(e);
      return;
    }
    const job = data.job;
    document.title = job.spec.job + " · Prow";
    document.getElementById("title").replaceChildren(job.spec.job + " ", stateBadge(data.state));
    document.getElementById("summary").textContent = (job.status && job.status.description) || "";
    const refs = refsOf(job);
    const facts = document.getElementById("facts");
    facts.replaceChildren();
    const fact = (k, v) => { if (v) facts.append(el("dt", null, k), el("dd", null, v)); };
    fact("ProwJob", job.metadata.name);
    fact("Type", job.spec.type);
    fact("Repository", refs ? refs.org + "/" + refs.repo : "");
    fact("Revision", revision(job));
    fact("Build", job.status && job.status.build_id);
    fact("Started", time(job.status && job.status.startTime));
    fact("Duration", duration(job));
    document.getElementById("abort").hidden = FINAL.has(data.state);
    renderBuildLog(document.getElementById("lens-buildlog"), data.build_log);
    const response = await fetch(data.log_url, { cache: "no-store" });
    document.getElementById("log").textContent = response.ok ? await response.text() : "";
    renderJunit(document.getElementById("junit"), data.junit);
    const list = document.getElementById("artifacts");
    list.replaceChildren();
    for (const a of data.artifacts) list.append(el("li", null, el("a", { href: a.url }, a.name)));
    if (!data.artifacts.length) list.append(el("li", { class: "muted" }, "No artifacts."));
    document.getElementById("yaml").textContent = data.rerun_yaml;
    if (!FINAL.has(data.state)) setTimeout(refresh, POLL_MS);
  };
  await refresh();
}

async function prPage() {
  const query = params();
  const org = query.get("org") || "", repo = query.get("repo") || "", pr = query.get("pr") || "";
  document.getElementById("p-org").value = org;
  document.getElementById("p-repo").value = repo;
  document.getElementById("p-pr").value = pr;
  if (!org || !repo || !pr) return;
  document.getElementById("title").textContent = org + "/" + repo + "#" + pr;
  const data = await getJSON("/deck/jobs.json?repo=" + encodeURIComponent(org + "/" + repo) +
    "&pull=" + encodeURIComponent(pr));
  const latest = new Map();
  for (const job of data.items) {
    const runs = latest.get(job.spec.job) || [];
    runs.push(job);
    latest.set(job.spec.job, runs);
  }
  const body = document.querySelector("#jobs tbody");
  body.replaceChildren();
  for (const [, runs] of [...latest.entries()].sort()) {
    const job = runs[0];
    body.append(el("tr", { class: "job-row", "data-job": job.spec.job },
      el("td", null, stateBadge(stateOf(job))), el("td", null, jobLink(job)),
      el("td", null, revision(job)), el("td", null, time(job.status && job.status.startTime)),
      el("td", null, duration(job)), el("td", null, runs.length)));
  }
  document.getElementById("summary").textContent = latest.size + " jobs";
}

function prList(prs) {
  const span = el("span");
  (prs || []).forEach((pr, i) => {
    if (i) span.append(" ");
    const number = pr.Number !== undefined ? pr.Number : pr.number;
    span.append(el("span", { title: pr.Title || pr.title || "" }, "#" + number));
  });
  return span;
}

async function tidePage() {
  const summary = document.getElementById("summary");
  let tide;
  try {
    tide = await getJSON("/tide.js");
  } catch (e) {
    summary.textContent = "Tide is not running here (" + e.message + ").";
    return;
  }
  const body = document.querySelector("#pools tbody");
  body.replaceChildren();
  for (const pool of tide.Pools || []) {
    body.append(el("tr", { class: "pool" },
      el("td", null, pool.Org + "/" + pool.Repo), el("td", null, pool.Branch),
      el("td", null, pool.Action), el("td", null, prList(pool.Target)),
      el("td", null, prList(pool.BatchPending)), el("td", null, prList(pool.SuccessPRs)),
      el("td", null, prList(pool.PendingPRs)), el("td", null, prList(pool.MissingPRs))));
  }
  summary.textContent = (tide.Pools || []).length + " pools";
  try {
    const history = (await getJSON("/tide-history.js")).History || {};
    const rows = document.querySelector("#history tbody");
    rows.replaceChildren();
    for (const [pool, records] of Object.entries(history)) {
      for (const r of records) {
        rows.append(el("tr", null, el("td", null, pool), el("td", null, time(r.time)),
          el("td", null, r.action), el("td", null, (r.baseSHA || "").slice(0, 7)),
          el("td", null, prList(r.target)), el("td", null, r.err || "")));
      }
    }
  } catch (e) {
    // No history yet: the table stays empty.
  }
}

async function helpPage() {
  const help = await getJSON("/plugin-help.js");
  const select = document.getElementById("h-repo");
  fillSelect(select, help.AllRepos || [], params().get("repo"));
  const render = () => {
    const repo = select.value;
    let enabled = null;
    if (repo) {
      const org = repo.split("/")[0];
      enabled = new Set([...(help.RepoPlugins[org] || []), ...(help.RepoPlugins[repo] || [])]);
    }
    const body = document.querySelector("#commands tbody");
    body.replaceChildren();
    const plugins = document.getElementById("plugins");
    plugins.replaceChildren();
    let count = 0;
    for (const [name, plugin] of Object.entries(help.PluginHelp || {})) {
      if (enabled && !enabled.has(name)) continue;
      plugins.append(el("dt", null, name), el("dd", null, plugin.Description));
      for (const command of plugin.Commands || []) {
        count++;
        body.append(el("tr", { class: "command" }, el("td", null, el("code", null, command.Usage)),
          el("td", null, name), el("td", null, command.Description),
          el("td", null, command.WhoCanUse), el("td", null, (command.Examples || []).join("  "))));
      }
    }
    document.getElementById("summary").textContent = count + " commands";
  };
  select.onchange = render;
  render();
}

const PAGES = { index: indexPage, job: jobPage, pr: prPage, tide: tidePage, help: helpPage };

document.addEventListener("DOMContentLoaded", () => {
  const page = PAGES[document.body.dataset.page];
  if (page) {
    page().catch((e) => {
      const summary = document.getElementById("summary");
      if (summary) summary.textContent = "Error: " + e.message;
    });
  }
});
