// deck's pages: each fetches deck's JSON and renders it with DOM calls (never innerHTML of
// data), so job names, logs and test output cannot inject markup. The one exception is plugin
// help, whose HTML fields the server has sanitised with ammonia (/deck/command-help.json).
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

// A symbol per state, as deck shows them, so states read without colour too.
const STATE_ICONS = { success: "\u2714", failure: "\u2716", error: "\u26a0", aborted: "\u2298",
  pending: "\u25d4", triggered: "\u25cb", scheduling: "\u25cb" };
const STATES = ["success", "failure", "error", "aborted", "pending", "triggered"];

function stateBadge(state) {
  return el("span", { class: "state state-" + state, title: state },
    el("span", { class: "state-icon", "aria-hidden": "true" }, STATE_ICONS[state] || "?"), " " + state);
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
  return seconds((end - new Date(status.startTime)) / 1000);
}

function jobLink(job) {
  return el("a", { href: "/job?prowjob=" + encodeURIComponent(job.metadata.name) }, job.spec.job);
}

// The repository's page on GitHub: the link Prow's refs carry, else github.com's.
function repoLink(refs) {
  return refs.repo_link || ("https://github.com/" + refs.org + "/" + refs.repo);
}

function shortSha(sha) {
  return (sha || "").slice(0, 7);
}

// The pull requests a job tests (each number linking to the PR on GitHub, its short head SHA
// to that commit, and the deck PR page's link beside), or the branch and its short SHA.
function revision(job) {
  const refs = refsOf(job);
  if (!refs) return "";
  const repo = repoLink(refs);
  const span = el("span", { class: "revision" });
  if (refs.pulls && refs.pulls.length) {
    refs.pulls.forEach((pull, i) => {
      if (i) span.append(", ");
      const prLink = pull.link || (repo + "/pull/" + pull.number);
      span.append(el("a", { href: prLink, class: "pull", title: "pull request on GitHub" }, "#" + pull.number));
      if (pull.sha) {
        const commit = pull.commit_link || (repo + "/pull/" + pull.number + "/commits/" + pull.sha);
        span.append(" ", el("a", { href: commit, class: "sha", title: pull.sha }, shortSha(pull.sha)));
      }
      const dashboard = "/pr?org=" + encodeURIComponent(refs.org) + "&repo=" +
        encodeURIComponent(refs.repo) + "&pr=" + pull.number;
      span.append(" ", el("a", { href: dashboard, class: "pr-jobs", title: "this PR's jobs" }, "jobs"));
    });
    return span;
  }
  span.append(refs.base_ref || "");
  if (refs.base_sha) {
    const commit = refs.base_link || (repo + "/commit/" + refs.base_sha);
    span.append(" ", el("a", { href: commit, class: "sha", title: refs.base_sha }, shortSha(refs.base_sha)));
  }
  return span;
}

function fillSelect(select, values, chosen) {
  for (const value of values) select.append(el("option", { value }, value));
  select.value = chosen || "";
}

// How often the job list asks for new jobs and states.
const LIST_POLL_MS = 5000;

// Counts of the listed jobs by state, as a bar of proportional segments with a legend: the
// state histogram at the top of Prow's job list.
function renderHistogram(container, items) {
  const counts = {};
  for (const job of items) counts[stateOf(job)] = (counts[stateOf(job)] || 0) + 1;
  container.replaceChildren();
  if (!items.length) return;
  const bar = el("div", { class: "histogram-bar", role: "img",
    "aria-label": STATES.filter((s) => counts[s]).map((s) => counts[s] + " " + s).join(", ") });
  const legend = el("div", { class: "histogram-legend" });
  for (const state of STATES) {
    const count = counts[state] || 0;
    if (!count) continue;
    const share = (100 * count / items.length).toFixed(2) + "%";
    bar.append(el("span", { class: "histogram-segment state-" + state, style: "width:" + share,
      title: count + " " + state, "data-state": state, "data-count": count }));
    legend.append(el("span", { class: "histogram-key", "data-state": state },
      stateBadge(state), " " + count));
  }
  container.append(bar, legend);
}

async function indexPage() {
  const query = params();
  for (const name of ["job", "author", "pull"]) {
    const input = document.getElementById("f-" + name);
    if (input) input.value = query.get(name) || "";
  }
  document.getElementById("f-type").value = query.get("type") || "";
  document.getElementById("f-state").value = query.get("state") || "";
  let first = true;
  const refresh = async () => {
    try {
      await renderJobList(query, first);
      first = false;
    } catch (e) {
      document.getElementById("summary").textContent = "Error: " + e.message + " (retrying)";
    }
    setTimeout(refresh, LIST_POLL_MS);
  };
  await refresh();
}

// One fetch of the job list under the page's filters; the filters' choices are filled once.
async function renderJobList(query, fillFilters) {
  const data = await getJSON("/deck/jobs.json?" + query.toString());
  if (fillFilters) {
    fillSelect(document.getElementById("f-repo"), data.repos, query.get("repo"));
    const names = document.getElementById("job-names");
    for (const name of data.jobs) names.append(el("option", { value: name }));
  }
  renderHistogram(document.getElementById("histogram"), data.items);
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
  document.getElementById("summary").textContent = data.items.length + " jobs (updated " +
    new Date().toLocaleTimeString() + ")";
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

// Who is logged in (GitHub login), fetched once per page.
let userInfo = null;
async function currentUser() {
  if (!userInfo) {
    try {
      userInfo = await getJSON("/deck/user.json");
    } catch (e) {
      userInfo = { login_enabled: false, login: null };
    }
  }
  return userInfo;
}

async function post(url) {
  const user = await currentUser();
  const headers = user.csrf_token ? { "X-CSRF-Token": user.csrf_token } : {};
  const response = await fetch(url, { method: "POST", headers });
  return response.status + " " + (await response.text());
}

// The header's login link, or the user's login and a logout link.
async function showLogin() {
  const user = await currentUser();
  const nav = document.querySelector("header nav");
  if (!user.login_enabled || !nav) return;
  const here = window.location.pathname + window.location.search;
  if (user.login) {
    nav.append(" ", el("span", { id: "user", class: "user" }, user.login), " ", el("a", { href: "/logout" }, "Log out"));
  } else {
    nav.append(" ", el("a", { id: "login", href: "/github-login?dest=" + encodeURIComponent(here) }, "Log in with GitHub"));
  }
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
    if (job.status && job.status.url) fact("Results", el("a", { href: job.status.url, id: "results-link" }, job.status.url));
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
  if (!org || !repo || !pr) {
    const user = await currentUser();
    if (!user.login) return;
    const data = await getJSON("/deck/user-prs.json");
    document.getElementById("title").textContent = "Pull requests of " + data.login;
    const body = document.querySelector("#jobs tbody");
    body.replaceChildren();
    for (const p of data.prs) {
      const link = "/pr?org=" + encodeURIComponent(p.org) + "&repo=" + encodeURIComponent(p.repo) + "&pr=" + p.number;
      body.append(el("tr", { class: "user-pr", "data-pr": p.org + "/" + p.repo + "#" + p.number },
        el("td", null, ""), el("td", null, el("a", { href: link }, p.org + "/" + p.repo + "#" + p.number)),
        el("td", null, p.title), el("td", null, ""), el("td", null, ""), el("td", null, "")));
    }
    document.getElementById("summary").textContent = data.prs.length + " open pull requests";
    return;
  }
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
  const pools = (tide.Pools || []).length;
  summary.textContent = pools + " pools";
  // With no pool, the empty table would say nothing: explain what would fill it.
  document.getElementById("pools").hidden = pools === 0;
  document.getElementById("no-pools").hidden = pools !== 0;
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

// An element whose content is HTML the server sanitised (plugin help only).
function sanitisedHTML(tag, attrs, html) {
  const node = el(tag, attrs);
  node.innerHTML = html || "";
  return node;
}

async function helpPage() {
  const help = await getJSON("/deck/command-help.json");
  const select = document.getElementById("h-repo");
  const repos = [...(help.AllRepos || [])];
  const asked = params().get("repo") || "";
  // A repository of an org that enables plugins is a valid choice even when plugins.yaml only
  // names its org: offer it.
  if (asked && !repos.includes(asked)) repos.push(asked);
  fillSelect(select, repos.sort(), asked);
  const render = () => {
    const repo = select.value;
    let enabled = null;
    if (repo) {
      const org = repo.split("/")[0];
      enabled = new Set([...(help.RepoPlugins[org] || []), ...(help.RepoPlugins[repo] || []),
        ...((help.RepoExternalPlugins || {})[org] || []), ...((help.RepoExternalPlugins || {})[repo] || [])]);
    }
    const body = document.querySelector("#commands tbody");
    body.replaceChildren();
    const plugins = document.getElementById("plugins");
    plugins.replaceChildren();
    let count = 0;
    // Built-in plugins first, then the external ones (their help is asked of their servers).
    const all = [...Object.entries(help.PluginHelp || {}), ...Object.entries(help.ExternalPluginHelp || {})];
    for (const [name, plugin] of all) {
      if (enabled && !enabled.has(name)) continue;
      plugins.append(el("dt", { id: "plugin-" + name }, name),
        sanitisedHTML("dd", { class: "plugin-description" }, plugin.Description));
      for (const command of plugin.Commands || []) {
        count++;
        const examples = el("td", { class: "examples" });
        for (const example of command.Examples || []) examples.append(sanitisedHTML("code", null, example));
        body.append(el("tr", { class: "command", "data-plugin": name },
          el("td", null, el("code", null, command.Usage)),
          el("td", null, el("a", { href: "#plugin-" + name }, name)),
          sanitisedHTML("td", { class: "description" }, command.Description),
          sanitisedHTML("td", null, command.WhoCanUse), examples));
      }
    }
    document.getElementById("summary").textContent = count + " commands" +
      (repo ? " enabled in " + repo : " in all plugins");
    // Whether the page scrolls sideways (it should not: the table wraps); the browser test
    // reads it.
    const root = document.documentElement;
    document.body.dataset.overflowX = String(root.scrollWidth > root.clientWidth);
  };
  select.onchange = () => {
    const url = new URL(window.location.href);
    if (select.value) url.searchParams.set("repo", select.value);
    else url.searchParams.delete("repo");
    window.history.replaceState(null, "", url);
    render();
  };
  render();
}

function seconds(total) {
  if (total === null || total === undefined) return "";
  let rest = Math.max(0, Math.round(total));
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  rest -= minutes * 60;
  return (hours ? hours + "h" : "") + (hours || minutes ? minutes + "m" : "") + rest + "s";
}

function epoch(value) {
  return value ? time(new Date(value * 1000).toISOString()) : "";
}

// Upstream's results (SUCCESS, FAILURE, ...) as deck's states, for the colours.
function resultState(result) {
  const known = { SUCCESS: "success", FAILURE: "failure", ABORTED: "aborted", ERROR: "error" };
  return known[result] || "pending";
}

// A build log with line links: #<file>:<line> scrolls to and marks the line.
function renderLogWithLinks(container, log, index) {
  const anchor = (n) => "log" + index + "-L" + n;
  for (const group of log.groups) {
    const pre = el("pre", { class: "log-group" });
    for (const line of group.lines) {
      pre.append(el("span", { class: "log-line" + (line.highlighted ? " highlighted" : ""), id: anchor(line.number) },
        el("a", { class: "num", href: "#" + anchor(line.number) }, line.number), line.text));
    }
    if (group.skip) {
      container.append(el("details", { class: "skipped" },
        el("summary", null, "Show " + group.lines.length + " hidden lines"), pre));
    } else {
      container.append(pre);
    }
  }
}

const LENS_RENDERERS = {
  metadata(body, data) {
    const m = data.metadata;
    const facts = el("dl");
    const fact = (k, v) => { if (v !== undefined && v !== null && v !== "") facts.append(el("dt", null, k), el("dd", null, v)); };
    fact("Result", el("span", { class: "state state-" + resultState(m.result), id: "result" }, m.result));
    fact("Started", epoch(m.started));
    fact("Elapsed", seconds(m.elapsed));
    fact("Node", m.node);
    fact("Revision", m.revision);
    for (const [repo, refs] of Object.entries(m.repos || {})) fact(repo, refs);
    for (const [key, value] of Object.entries(m.extra || {})) fact(key, typeof value === "string" ? value : JSON.stringify(value));
    if (data.prowjob) {
      fact("ProwJob", el("a", { href: data.prowjob.job_page }, data.prowjob.name));
      fact("State", data.prowjob.state);
      fact("Pod", data.prowjob.pod_name);
    }
    body.append(facts);
  },
  buildlog(body, data) {
    if (data.live) body.append(el("p", { class: "muted" }, "The build is running: this is its pod's log so far."));
    data.logs.forEach((log, i) => {
      body.append(el("h3", null, log.name, " ", log.url ? el("a", { href: log.url, class: "raw" }, "raw") : ""));
      if (log.truncated) body.append(el("p", { class: "muted", id: "log-truncated" }, "Only the end of the log is shown."));
      if (!log.groups.length) body.append(el("p", { class: "muted" }, "Empty log."));
      renderLogWithLinks(body, log, i);
    });
  },
  junit(body, data) {
    const div = el("div");
    renderJunit(div, data.files);
    body.append(div);
  },
  podinfo(body, data) {
    const pod = data.pod;
    if (!pod) { body.append(el("p", { class: "muted" }, "No pod information.")); return; }
    const facts = el("dl");
    const fact = (k, v) => { if (v !== undefined && v !== null && v !== "") facts.append(el("dt", null, k), el("dd", null, v)); };
    fact("Pod", pod.name); fact("Namespace", pod.namespace); fact("Node", pod.node);
    fact("Phase", pod.phase); fact("Reason", pod.reason); fact("Message", pod.message);
    body.append(facts);
    const table = el("table", null, el("tr", null, el("th", null, "Container"), el("th", null, "Image"),
      el("th", null, "Exit code"), el("th", null, "Reason"), el("th", null, "Restarts")));
    for (const c of pod.containers) {
      table.append(el("tr", null, el("td", null, c.name), el("td", null, c.image),
        el("td", null, c.exit_code), el("td", null, c.reason), el("td", null, c.restarts)));
    }
    body.append(table);
  },
  links(body, data) {
    const list = el("ul");
    for (const link of data.links) list.append(el("li", null, el("a", { href: link.url, rel: "noopener" }, link.title)));
    body.append(list);
  },
  html(body, data) {
    // An artifact page runs in a sandbox with no access to deck's origin.
    for (const doc of data.documents) {
      const frame = el("iframe", { sandbox: "", class: "lens-html", title: doc.name });
      frame.srcdoc = doc.content;
      body.append(el("h3", null, doc.name), frame);
    }
  },
  coverage(body, data) {
    const pct = (covered, total) => total ? (100 * covered / total).toFixed(1) + "%" : "n/a";
    for (const p of data.profiles) {
      const c = p.coverage;
      body.append(el("h3", null, p.name), el("p", { class: "coverage-total" },
        pct(c.covered, c.total) + " of " + c.total + " statements covered"));
      const table = el("table", null, el("tr", null, el("th", null, "File"), el("th", null, "Covered"), el("th", null, "Statements")));
      for (const [file, covered, total] of c.files) {
        table.append(el("tr", null, el("td", null, file), el("td", null, pct(covered, total)), el("td", null, total)));
      }
      body.append(table);
    }
  },
  markdown(body, data) {
    for (const doc of data.documents) body.append(el("h3", null, doc.name), el("pre", { class: "markdown" }, doc.content));
  },
};

async function viewPage() {
  const src = decodeURIComponent(window.location.pathname.replace(/^\/view\//, ""));
  const data = await getJSON("/deck/view.json?src=" + encodeURIComponent(src));
  document.title = data.job + " #" + data.build + " · Prow";
  document.getElementById("title").textContent = data.job + " #" + data.build;
  document.getElementById("summary").textContent = data.source.provider + "://" + data.source.bucket + "/" + data.source.path;
  if (data.announcement) {
    const note = document.getElementById("announcement");
    note.textContent = data.announcement;
    note.hidden = false;
  }
  const links = document.getElementById("links");
  links.append(el("a", { href: data.links.job_history, id: "job-history-link" }, "Job history"));
  if (data.links.pr_history) links.append(" ", el("a", { href: data.links.pr_history, id: "pr-history-link" }, "PR history"));
  if (data.links.browser) links.append(" ", el("a", { href: data.links.browser }, "Artifacts in the bucket browser"));
  if (data.links.testgrid_root) links.append(" ", el("a", { href: data.links.testgrid_root }, "TestGrid"));
  const lenses = document.getElementById("lenses");
  for (const lens of data.lenses) {
    const body = el("div", { class: "lens-body" });
    const section = el("section", { class: "lens", id: "lens-" + lens.name, "data-lens": lens.name },
      el("h2", null, lens.title), body);
    const render = LENS_RENDERERS[lens.name];
    if (lens.data.unsupported || !render) body.append(el("p", { class: "muted" }, "This lens is not available in this deck."));
    else render(body, lens.data);
    for (const problem of lens.data.problems || []) body.append(el("p", { class: "junit-failed" }, problem));
    lenses.append(section);
  }
  if (!data.lenses.length) lenses.append(el("p", { class: "muted" }, "No lens applies to this build's artifacts yet."));
  const list = document.getElementById("artifacts");
  for (const a of data.artifacts) list.append(el("li", null, el("a", { href: a.url }, a.name), " ", el("span", { class: "muted" }, a.size + " bytes")));
  if (!data.artifacts.length) list.append(el("li", { class: "muted" }, "No artifacts."));
  if (window.location.hash) {
    const line = document.getElementById(window.location.hash.slice(1));
    if (line) { line.classList.add("linked"); line.scrollIntoView(); }
  }
  if (!data.finished) setTimeout(() => window.location.reload(), 10 * POLL_MS);
}

async function jobHistoryPage() {
  const src = decodeURIComponent(window.location.pathname.replace(/^\/job-history\//, ""));
  const top = params().get("buildId") || "";
  const data = await getJSON("/deck/job-history.json?src=" + encodeURIComponent(src) + "&buildId=" + encodeURIComponent(top));
  document.title = data.job + " history · Prow";
  document.getElementById("title").textContent = "Job history: " + data.job;
  document.getElementById("summary").textContent = data.total + " builds in " + data.source.provider + "://" + data.source.bucket + "/" + data.source.path;
  const body = document.querySelector("#builds tbody");
  for (const b of data.builds) {
    body.append(el("tr", { class: "build-row", "data-build": b.id, "data-result": b.result },
      el("td", null, el("span", { class: "state state-" + resultState(b.result) }, b.result)),
      el("td", null, el("a", { href: b.link }, b.id)), el("td", null, epoch(b.started)),
      el("td", null, seconds(b.duration)), el("td", null, b.revision)));
  }
  for (const [id, value] of [["older", data.older], ["newer", data.newer]]) {
    const link = document.getElementById(id);
    if (value !== null && value !== undefined) {
      link.href = window.location.pathname + "?buildId=" + value;
      link.hidden = false;
    }
  }
}

async function prHistoryPage() {
  const query = params();
  const org = query.get("org") || "", repo = query.get("repo") || "", pr = query.get("pr") || "";
  document.getElementById("p-org").value = org;
  document.getElementById("p-repo").value = repo;
  document.getElementById("p-pr").value = pr;
  if (!org || !repo || !pr) return;
  document.getElementById("title").textContent = "PR history: " + org + "/" + repo + "#" + pr;
  const data = await getJSON("/deck/pr-history.json?org=" + encodeURIComponent(org) + "&repo=" +
    encodeURIComponent(repo) + "&pr=" + encodeURIComponent(pr));
  const out = document.getElementById("commits");
  let runs = 0;
  for (const commit of data.commits) {
    const table = el("table", { class: "commit", "data-commit": commit.commit },
      el("tr", null, el("th", null, "Result"), el("th", null, "Job"), el("th", null, "Build"), el("th", null, "Started"), el("th", null, "Duration")));
    for (const run of commit.builds) {
      runs += 1;
      const b = run.build;
      table.append(el("tr", { class: "pr-run", "data-job": run.job },
        el("td", null, el("span", { class: "state state-" + resultState(b.result) }, b.result)),
        el("td", null, run.job), el("td", null, el("a", { href: b.link }, b.id)),
        el("td", null, epoch(b.started)), el("td", null, seconds(b.duration))));
    }
    out.append(el("h2", null, "Commit ", el("code", null, commit.commit)), table);
  }
  document.getElementById("summary").textContent = runs + " runs on " + data.commits.length + " commits";
}

async function configuredJobsPage() {
  const parts = window.location.pathname.split("/").filter(Boolean);
  const org = decodeURIComponent(parts[1] || ""), repo = decodeURIComponent(parts[2] || "");
  document.getElementById("title").textContent = "Configured jobs: " + org + "/" + repo;
  const data = await getJSON("/deck/configured-jobs.json?org=" + encodeURIComponent(org) + "&repo=" + encodeURIComponent(repo));
  const body = document.querySelector("#jobs tbody");
  for (const job of data.jobs) {
    const branches = (job.branches || []).join(", ") + ((job.skip_branches || []).length ? " (not " + job.skip_branches.join(", ") + ")" : "");
    body.append(el("tr", { class: "configured-job", "data-job": job.name },
      el("td", null, job.name), el("td", null, job.type), el("td", null, job.trigger),
      el("td", null, branches), el("td", null, job.cluster)));
  }
  document.getElementById("summary").textContent = data.jobs.length + " jobs";
}

const PAGES = { index: indexPage, job: jobPage, pr: prPage, tide: tidePage, help: helpPage,
  view: viewPage, jobHistory: jobHistoryPage, prHistory: prHistoryPage, configuredJobs: configuredJobsPage };

document.addEventListener("DOMContentLoaded", () => {
  showLogin();
  const page = PAGES[document.body.dataset.page];
  if (page) {
    page().catch((e) => {
      const summary = document.getElementById("summary");
      if (summary) summary.textContent = "Error: " + e.message;
    });
  }
});
