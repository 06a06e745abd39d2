// piapi-mock dashboard: vanilla JS, no build step, no third-party code.
// It polls GET /_mock/ui/api/poll (a few counters) and refetches a panel only when something
// it shows has moved: a counter changed, or the clock passed a shown task's next transition.
"use strict";
(() => {
  const TOKEN_KEY = "piapi-mock-control-token";
  const NS_PER_MS = 1e6;
  const PAGE = 50;
  const MAX_PAGE = 500; // the server's bound on one task page
  const query = new URLSearchParams(location.search);
  if (query.has("token")) {
    keepToken(query.get("token"));
    query.delete("token");
    const rest = query.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
  }
  const pollMs = Math.min(10000, Math.max(100, Number(query.get("poll")) || 1000));
  const $ = (id) => document.getElementById(id);

  // The control token is kept for this tab and sent as X-Mock-Control-Token; a session cookie
  // scoped to the page (SameSite=Strict) lets a reload in without the token in the address bar.
  function keepToken(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
    if (/^[A-Za-z0-9._~+\/=-]+$/.test(token)) {
      document.cookie = `piapi_mock_control_token=${token}; Path=/_mock/ui; SameSite=Strict`;
    }
  }

  const state = {
    last: null, // the previous poll answer
    clock: { nowNs: 0, speed: 0, at: 0 }, // server clock and when (performance.now) we read it
    limit: PAGE,
    rows: [],
    selected: location.hash.startsWith("#task=") ? decodeURIComponent(location.hash.slice(6)) : "",
    detail: null,
    dirty: true,
    busy: false,
    timer: 0,
  };

  // -- HTTP ----------------------------------------------------------------------------------

  class HttpError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(method, path, body) {
    const headers = { accept: "application/json" };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers["x-mock-control-token"] = token;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    const text = await response.text();
    let data = null;
    try { data = JSON.parse(text); } catch (_) { data = null; }
    if (!response.ok) {
      const message = data && typeof data.message === "string" ? data.message : text.slice(0, 200);
      throw new HttpError(response.status, `${method} ${path}: ${response.status} ${message}`);
    }
    return data;
  }

  // -- small DOM helpers (text only: nothing from the server is parsed as HTML) ---------------

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (name === "text") node.textContent = value;
      else if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function say(text, ok) {
    const box = $("message");
    box.textContent = text || "";
    box.classList.toggle("ok", Boolean(ok));
  }

  const iso = (ns) => (ns === null || ns === undefined ? "" : new Date(ns / NS_PER_MS).toISOString());
  const clockText = (ns) => iso(ns).replace("T", " ").replace("Z", "");
  const timeText = (ns) => (ns === null || ns === undefined ? "–" : iso(ns).slice(11, 19));
  const preciseTime = (ns) => iso(ns).slice(11, 23);

  const points = (n) => Number(n).toLocaleString("en-US");

  function nowNs() {
    const c = state.clock;
    return c.nowNs + c.speed * (performance.now() - c.at) * NS_PER_MS;
  }

  // -- progress toward the predicted end ------------------------------------------------------

  function progressOf(row, now) {
    if (row.status === "completed" || row.status === "failed" || row.status === "cancelled") return 1;
    if (row.end_at_ns === null) return null; // waiting for a slot, or stuck: unknown end
    const span = row.end_at_ns - row.created_at_ns;
    return span > 0 ? Math.min(1, Math.max(0, (now - row.created_at_ns) / span)) : 1;
  }

  function setProgress(bar, row, now) {
    const value = progressOf(row, now);
    if (value === null) {
      bar.removeAttribute("value");
      bar.setAttribute("aria-valuetext", "end unknown");
    } else {
      bar.value = value;
      bar.setAttribute("aria-valuetext", `${Math.round(value * 100)}%`);
    }
  }

  function statusBadge(status) {
    return el("span", { class: `status ${status}`, "data-status": status, text: status });
  }

  // -- the task table ------------------------------------------------------------------------

  function taskRow(row) {
    const bar = el("progress", { max: 1, "aria-label": `progress of task ${row.task_id}` });
    setProgress(bar, row, nowNs());
    const open = el("button", {
      type: "button", class: "task-link", "data-task-id": row.task_id, text: row.task_id.slice(0, 8),
      title: row.task_id, "aria-label": `open task ${row.task_id}`, onclick: () => select(row.task_id),
    });
    const statusCell = el("td", { "data-testid": "status" }, statusBadge(row.status), bar);
    if (row.error) statusCell.title = row.error;
    return el("tr", { "data-task-id": row.task_id, "aria-current": row.task_id === state.selected ? "true" : false },
      el("td", {}, open),
      el("td", { class: "mono", text: row.key }),
      el("td", { text: `${row.model} / ${row.task_type}` }),
      statusCell,
      el("td", { class: "num", text: points(row.cost),
        title: `${points(row.consume)} of ${points(row.cost)} points consumed` }),
      el("td", { class: "mono", text: timeText(row.created_at_ns), title: iso(row.created_at_ns) }),
      el("td", { class: "mono", text: timeText(row.started_at_ns), title: iso(row.started_at_ns) }),
      el("td", { class: "mono", text: timeText(row.ended_at_ns), title: iso(row.ended_at_ns) }));
  }

  function renderTasks(page) {
    const focused = document.activeElement && document.activeElement.dataset
      ? document.activeElement.dataset.taskId : undefined;
    state.rows = page.tasks;
    $("task-rows").replaceChildren(...page.tasks.map(taskRow));
    $("tasks-count").textContent = `(${page.tasks.length} shown of ${page.total})`;
    $("tasks-empty").hidden = page.tasks.length > 0;
    $("more").hidden = page.tasks.length < state.limit || state.limit >= MAX_PAGE;
    if (focused) {
      const again = document.querySelector(`#task-rows button[data-task-id="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  function filterQuery() {
    const params = new URLSearchParams({ limit: String(state.limit) });
    if ($("filter-status").value) params.set("status", $("filter-status").value);
    if ($("filter-key").value) params.set("key", $("filter-key").value);
    if ($("filter-kind").value) {
      const [model, taskType] = JSON.parse($("filter-kind").value);
      params.set("model", model);
      params.set("task_type", taskType);
    }
    return params.toString();
  }

  function fillSelect(select, options) {
    const keep = select.value;
    const wanted = [["", "any"], ...options];
    const same = select.options.length === wanted.length
      && wanted.every(([value], i) => select.options[i].value === value);
    if (same) return;
    select.replaceChildren(...wanted.map(([value, label]) => el("option", { value, text: label })));
    select.value = wanted.some(([value]) => value === keep) ? keep : "";
  }

  // -- the detail panel ----------------------------------------------------------------------

  function select(taskId) {
    state.selected = taskId;
    history.replaceState(null, "", location.pathname + location.search + (taskId ? `#task=${encodeURIComponent(taskId)}` : ""));
    for (const tr of $("task-rows").children) {
      if (tr.dataset.taskId === taskId) tr.setAttribute("aria-current", "true");
      else tr.removeAttribute("aria-current");
    }
    if (!taskId) {
      $("detail").hidden = true;
      state.detail = null;
      return Promise.resolve();
    }
    return refreshDetail().then(() => {
      $("detail-heading").focus();
      $("detail").scrollIntoView({ block: "nearest" });
    });
  }

  function renderDetail(detail) {
    state.detail = detail;
    const row = detail.row;
    $("detail").hidden = false;
    $("detail-id").textContent = row.task_id;
    $("detail-status").replaceChildren(statusBadge(row.status));
    setProgress($("detail-progress"), row, nowNs());
    $("detail-times").textContent = ` key ${row.key} · ${row.model} / ${row.task_type} · cost ${points(row.cost)} points`
      + (row.error ? ` · error: ${row.error}` : "");
    const terminal = ["completed", "failed", "cancelled"].includes(row.status);
    for (const button of document.querySelectorAll("#detail [data-action]")) {
      const action = button.dataset.action;
      button.disabled = terminal || (action === "cancel" && row.status !== "pending");
    }
    $("fail-reason").disabled = terminal;
    $("detail-request").textContent = JSON.stringify(detail.request, null, 2);
    $("detail-answer").textContent = JSON.stringify(detail.answer, null, 2);
    $("webhook-endpoint").textContent = detail.webhook_endpoint
      ? `endpoint ${detail.webhook_endpoint}` : "this task has no webhook endpoint";
    $("redeliver").disabled = !detail.webhook_endpoint;
    $("attempt-rows").replaceChildren(...detail.attempts.map((a) => el("tr", {},
      el("td", { class: "mono", text: preciseTime(a.at_ns), title: a.at }),
      el("td", { text: a.event + (a.redelivery ? " (again)" : "") }),
      el("td", { class: "num", text: a.attempt }),
      el("td", { class: "num", text: a.status === null ? "–" : a.status }),
      el("td", { class: "num", text: `${a.latency_ms} ms` }),
      el("td", { text: a.result }),
      el("td", { class: "wrap", text: a.error || "" }))));
    if (!detail.attempts.length) {
      $("attempt-rows").replaceChildren(el("tr", {}, el("td", { colspan: 7, class: "note", text: "no attempts yet" })));
    }
    $("detail-journal").replaceChildren(...detail.journal.map((e) =>
      el("li", { text: `${preciseTime(e.at)} ${e.method} ${e.path} → ${e.status}${e.message ? " " + e.message : ""}` })));
  }

  async function refreshDetail() {
    if (!state.selected) return;
    try {
      renderDetail(await api("GET", `/_mock/ui/api/tasks/${encodeURIComponent(state.selected)}`));
    } catch (error) {
      if (error.status === 404) {
        state.selected = "";
        $("detail").hidden = true;
        return;
      }
      throw error;
    }
  }

  async function act(action) {
    const id = state.selected;
    if (!id) return;
    const path = action === "cancel"
      ? `/_mock/ui/api/tasks/${encodeURIComponent(id)}/cancel`
      : `/_mock/tasks/${encodeURIComponent(id)}/${action}`;
    const body = action === "fail" ? { reason: $("fail-reason").value } : {};
    await run(async () => {
      await api("POST", path, body);
      say(`${action}: task ${id.slice(0, 8)} done`, true);
    });
  }

  // -- the side panels -----------------------------------------------------------------------

  function renderRules(catalogue) {
    const reasons = Object.keys(catalogue.failures);
    if ($("fail-reason").options.length !== reasons.length) {
      $("fail-reason").replaceChildren(...reasons.map((r) => el("option", { value: r, text: r })));
    }
    const rates = catalogue.rates;
    $("rates").textContent = `failure rate ${rates.failure_rate}, fault rate ${rates.fault_rate}`
      + ` (${rates.fault_kind})` + (rates.scenario_rates.length ? `, rates ${rates.scenario_rates.join(", ")}` : "")
      + (catalogue.headers_honoured ? "; X-Mock-Scenario / X-Mock-Fault headers honoured" : "");
    const items = [];
    for (const rule of catalogue.rules) {
      const match = Object.keys(rule.match || {}).length ? ` when ${JSON.stringify(rule.match)}` : "";
      items.push(el("li", {}, `scenario ${rule.scenario}${match} · fired ${rule.fired}/${rule.times ?? "∞"}`,
        el("button", { type: "button", "aria-label": `remove scenario rule ${rule.id}`, text: "Remove",
          onclick: () => run(() => api("DELETE", `/_mock/rules/${encodeURIComponent(rule.id)}`)) })));
    }
    for (const rule of catalogue.fault_rules) {
      items.push(el("li", {}, `fault ${rule.fault} on ${rule.on} · fired ${rule.fired}/${rule.times ?? "∞"}`,
        el("button", { type: "button", "aria-label": `remove fault rule ${rule.id}`, text: "Remove",
          onclick: () => run(() => api("DELETE", `/_mock/faults/${encodeURIComponent(rule.id)}`)) })));
    }
    if (!items.length) items.push(el("li", { class: "note", text: "no rules: POST /_mock/rules or /_mock/faults" }));
    $("rules").replaceChildren(...items);
  }

  function renderAccounts(found) {
    const rows = found.accounts.map((a) => el("tr", {},
      el("td", { class: "mono", text: a.key }),
      el("td", { class: "num", text: points(a.point_frozen) }),
      el("td", { class: "num", text: points(a.point_used) }),
      el("td", { class: "num", text: a.unlimited ? "unlimited" : points(a.point_remain) })));
    $("account-rows").replaceChildren(...rows);
    fillSelect($("filter-key"), found.accounts.map((a) => [a.key, a.key]));
  }

  function renderJournal(tail) {
    $("journal-count").textContent = `(${tail.count} answered)`;
    $("journal").replaceChildren(...tail.calls.map((e) => el("li", {},
      `${preciseTime(e.at)} ${e.method} ${e.path} → ${e.status}${e.message ? " " + e.message : ""}`,
      e.task_id ? el("button", { type: "button", text: "Open", "aria-label": `open task ${e.task_id}`,
        onclick: () => select(e.task_id) }) : null)));
  }

  // -- the loop ------------------------------------------------------------------------------

  function renderClock(poll) {
    state.clock = { nowNs: poll.now_ns, speed: poll.speed, at: performance.now() };
    $("clock-now").textContent = clockText(poll.now_ns);
    $("clock-now").setAttribute("datetime", iso(poll.now_ns));
    $("clock-speed").textContent = poll.speed ? `${poll.speed}×` : "manual";
    const manual = !poll.speed;
    for (const node of $("speed-form").elements) node.disabled = manual;
    $("speed-form").title = manual ? "a manual clock has no speed: advance it instead" : "";
    fillSelect($("filter-kind"), poll.kinds.map(([model, type]) => [JSON.stringify([model, type]), `${model} / ${type}`]));
  }

  function nextTransition() {
    let next = Infinity;
    const shown = state.detail ? [...state.rows, state.detail.row] : state.rows;
    for (const row of shown) if (row.next_at_ns !== null && row.next_at_ns < next) next = row.next_at_ns;
    return next;
  }

  function moved(poll) {
    const last = state.last;
    if (state.dirty || !last) return true;
    return poll.version !== last.version || poll.journal !== last.journal || poll.webhooks !== last.webhooks
      || poll.webhooks_queued !== last.webhooks_queued || poll.rules.join() !== last.rules.join()
      || poll.now_ns >= nextTransition();
  }

  async function refreshAll() {
    const [page, catalogue, found, tail] = await Promise.all([
      api("GET", `/_mock/ui/api/tasks?${filterQuery()}`),
      api("GET", "/_mock/scenarios"),
      api("GET", "/_mock/ui/api/accounts"),
      api("GET", "/_mock/ui/api/journal?limit=30"),
    ]);
    renderTasks(page);
    renderRules(catalogue);
    renderAccounts(found);
    renderJournal(tail);
    await refreshDetail();
  }

  async function tick() {
    state.timer = 0;
    if (state.busy || document.hidden) return schedule();
    state.busy = true;
    try {
      const poll = await api("GET", "/_mock/ui/api/poll");
      renderClock(poll);
      if (moved(poll)) {
        state.dirty = false;
        await refreshAll();
      }
      state.last = poll;
      setLive("live", false);
    } catch (error) {
      if (error.status === 401) return gate();
      setLive(`not connected: ${error.message}`, true);
    } finally {
      state.busy = false;
    }
    schedule();
  }

  function schedule(delay) {
    if (state.timer) clearTimeout(state.timer);
    state.timer = setTimeout(tick, delay === undefined ? pollMs : delay);
  }

  function setLive(text, bad) {
    $("live").textContent = text;
    $("live").classList.toggle("error", bad);
  }

  // An action: run it, then refresh at once (not at the next poll) so the page follows.
  async function run(work) {
    say("");
    try {
      await work();
    } catch (error) {
      say(error.message);
    }
    state.dirty = true;
    schedule(0);
  }

  function gate() {
    setLive("control token needed", true);
    $("token-gate").hidden = false;
    $("token-value").focus();
  }

  // Between polls only the progress bars and the clock readout move (no network).
  function animate() {
    if (state.clock.speed) {
      const now = nowNs();
      $("clock-now").textContent = clockText(now);
      for (const tr of $("task-rows").children) {
        const row = state.rows.find((r) => r.task_id === tr.dataset.taskId);
        const bar = tr.querySelector("progress");
        if (row && bar && row.next_at_ns !== null) setProgress(bar, row, now);
      }
      if (state.detail) setProgress($("detail-progress"), state.detail.row, now);
    }
    setTimeout(animate, 250);
  }

  // -- wiring --------------------------------------------------------------------------------

  for (const status of ["pending", "processing", "completed", "failed", "cancelled"]) {
    $("filter-status").append(el("option", { value: status, text: status }));
  }
  $("filters").addEventListener("change", () => { state.limit = PAGE; state.dirty = true; schedule(0); });
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  $("more").addEventListener("click", () => {
    state.limit = Math.min(MAX_PAGE, state.limit + PAGE);
    state.dirty = true;
    schedule(0);
  });
  $("advance-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const seconds = Number($("advance-seconds").value);
    run(() => api("POST", "/_mock/clock/advance", { seconds }));
  });
  $("speed-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const speed = Number($("speed-value").value);
    run(() => api("POST", "/_mock/clock/speed", { speed }));
  });
  for (const button of document.querySelectorAll("#detail [data-action]")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
  $("detail-close").addEventListener("click", () => select(""));
  $("redeliver").addEventListener("click", () => run(async () => {
    const answer = await api("POST", "/_mock/webhooks/redeliver", { task_id: state.selected });
    say(`redelivery queued: ${answer.queued.map((e) => e.event).join(", ")}`, true);
  }));
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    keepToken($("token-value").value);
    $("token-gate").hidden = true;
    state.dirty = true;
    schedule(0);
  });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) schedule(0); });
  if (state.selected) refreshDetail().catch(() => {});
  tick();
  animate();
})();
