// The standalone tutor page: a tutor's queue with claim / resolve / snooze / reassign /
// not useful. Every piece of data is written with textContent (never innerHTML), links
// only when they are http(s). The token lives in sessionStorage of this tab only.
"use strict";

(function () {
  const API = "/api/v1";
  const TOKEN_KEY = "facilitation.token";
  const REFRESH_MS = 30000;
  const $ = (id) => document.getElementById(id);
  let me = null;
  let timer = null;

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function announce(text) {
    // Clear first so the same message twice is still announced.
    $("status").textContent = "";
    window.setTimeout(() => { $("status").textContent = text; }, 30);
  }

  async function call(method, path, body) {
    const res = await fetch(API + path, {
      method,
      headers: Object.assign(
        { "Authorization": "Bearer " + token() },
        body ? { "Content-Type": "application/json" } : {}
      ),
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = {};
    try { data = await res.json(); } catch (e) { data = {}; }
    if (res.status === 401 && me) { signOut("Your session ended: please sign in again."); }
    return { ok: res.ok, status: res.status, data };
  }

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) { node.setAttribute(k, v); }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function hoursSince(iso, nowIso) {
    const ms = Date.parse(nowIso) - Date.parse(iso);
    return Number.isFinite(ms) ? Math.max(0, ms / 3600000) : 0;
  }

  function age(hours) {
    if (hours < 1) { return Math.round(hours * 60) + " min"; }
    if (hours < 48) { return Math.round(hours) + " h"; }
    return Math.round(hours / 24) + " days";
  }

  function safeUrl(url) {
    try {
      const u = new URL(url, window.location.href);
      return (u.protocol === "https:" || u.protocol === "http:") ? u.href : null;
    } catch (e) { return null; }
  }

  function button(label, handler, extra) {
    const b = el("button", Object.assign({ type: "button" }, extra || {}), label);
    b.addEventListener("click", handler);
    return b;
  }

  function renderNudge(n, nowIso, index) {
    const li = el("li", { "class": "nudge", "data-nudge-id": n.nudge_id });
    const headingId = "nudge-h-" + index;
    li.setAttribute("aria-labelledby", headingId);
    const h = el("h3", { id: headingId, tabindex: "-1" });
    h.append(el("span", { "class": "sev sev-" + n.severity }, n.severity), " ",
             "Learner " + n.learner_id);
    li.append(h);
    const stateText = n.state + (n.snoozed_until ? " until " + n.snoozed_until : "") +
      (n.claimed_by ? " by " + n.claimed_by : "");
    li.append(el("p", { "class": "meta" },
      "Waiting " + age(hoursSince(n.due_at, nowIso)) + " · " + stateText +
      " · queue " + n.tutor_id + " · " + n.course_id));
    const reasons = el("ul", { "class": "reasons", "aria-label": "Reasons" });
    for (const r of n.reasons) { reasons.append(el("li", {}, r)); }
    li.append(reasons);
    for (const item of n.items) {
      if (!item.open) { continue; }
      const box = el("div", { "class": "item" });
      const title = item.title || (item.subject_type + " " + item.subject_id);
      const href = item.url ? safeUrl(item.url) : null;
      if (href) {
        const a = el("a", { href, target: "_blank", rel: "noopener noreferrer" }, title);
        box.append(a);
      } else {
        box.append(el("strong", {}, title));
      }
      if (item.excerpt) { box.append(el("blockquote", { "class": "excerpt" }, item.excerpt)); }
      li.append(box);
    }
    li.append(renderActions(n, index));
    return li;
  }

  function renderActions(n, index) {
    const bar = el("div", { "class": "actions", role: "group", "aria-label": "Actions" });
    const act = (action, body, done) => () => perform(n, action, body, done, index);
    if (n.state !== "claimed") {
      bar.append(button("Claim", act("claim", null, "Claimed"), { "class": "primary" }));
    }
    bar.append(button("Resolve", act("resolve", null, "Resolved")));
    const snoozeId = "snooze-" + index;
    bar.append(el("label", { "for": snoozeId, "class": "visually-hidden" }, "Snooze for"));
    const snooze = el("select", { id: snoozeId });
    for (const [h, label] of [[1, "1 hour"], [4, "4 hours"], [24, "1 day"]]) {
      snooze.append(el("option", { value: String(h) }, label));
    }
    bar.append(snooze);
    bar.append(button("Snooze", () => perform(n, "snooze", { hours: Number(snooze.value) },
      "Snoozed", index)));
    const others = (me.team || []).filter((t) => t !== n.tutor_id);
    if (others.length) {
      const toId = "reassign-" + index;
      bar.append(el("label", { "for": toId }, "to"));
      const to = el("select", { id: toId });
      for (const t of others) { to.append(el("option", { value: t }, t)); }
      bar.append(to);
      bar.append(button("Reassign", () => perform(n, "reassign", { to: to.value },
        "Reassigned", index)));
    }
    bar.append(button("Not useful", act("not-useful", null, "Marked not useful")));
    return bar;
  }

  async function perform(n, action, body, done, index) {
    const res = await call("POST", "/nudges/" + encodeURIComponent(n.nudge_id) + "/" + action,
                           body || {});
    if (res.ok) {
      announce(done + ": learner " + n.learner_id + ".");
    } else if (res.status !== 401) {
      announce("Could not " + action + ": " + (res.data.error || ("error " + res.status)));
    }
    await load(index);
  }

  async function load(focusIndex) {
    const view = $("view").value || "me";
    const query = view === "all" ? "?all=1" : (view === "me" ? "" :
      "?tutor=" + encodeURIComponent(view));
    const res = await call("GET", "/queue" + query);
    if (!res.ok) {
      if (res.status !== 401) { announce(res.data.error || "Could not load the queue."); }
      return;
    }
    const list = $("nudges");
    list.replaceChildren();
    let i = 0;
    for (const nudges of Object.values(res.data.queues)) {
      for (const n of nudges) { list.append(renderNudge(n, res.data.now, i++)); }
    }
    $("empty").hidden = i > 0;
    $("queue-heading").textContent = "Nudges (" + i + ")";
    if (focusIndex !== undefined) {
      // Keep keyboard users where they were: the next nudge, or the list heading.
      const headings = list.querySelectorAll("h3");
      const target = headings[Math.min(focusIndex, headings.length - 1)] || $("queue-heading");
      target.focus();
    }
  }

  async function signIn(value) {
    sessionStorage.setItem(TOKEN_KEY, value);
    const res = await call("GET", "/me");
    if (!res.ok) {
      sessionStorage.removeItem(TOKEN_KEY);
      announce(res.status === 401 ? "That token was not accepted." : "Sign-in failed.");
      $("signin").hidden = false;
      $("token").focus();
      return false;
    }
    me = res.data;
    $("who").textContent = "Signed in as " + me.name + (me.lead ? " (lead)" : "");
    const view = $("view");
    view.replaceChildren(el("option", { value: "me" }, "My queue"));
    if (me.lead) {
      view.append(el("option", { value: "all" }, "Whole team"));
      for (const t of me.team) {
        if (t !== me.tutor_id) { view.append(el("option", { value: t }, "Queue of " + t)); }
      }
    }
    $("signin").hidden = true;
    $("toolbar").hidden = false;
    $("queue").hidden = false;
    await load();
    $("queue-heading").focus();
    timer = window.setInterval(() => { load(); }, REFRESH_MS);
    return true;
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (timer) { window.clearInterval(timer); timer = null; }
    me = null;
    $("nudges").replaceChildren();
    $("queue").hidden = true;
    $("toolbar").hidden = true;
    $("who").textContent = "";
    $("signin").hidden = false;
    if (message) { announce(message); }
    $("token").focus();
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const value = $("token").value.trim();
      $("token").value = "";
      if (value) { await signIn(value); }
    });
    $("refresh").addEventListener("click", () => { load(); announce("Queue refreshed."); });
    $("view").addEventListener("change", () => { load(); });
    $("signout").addEventListener("click", () => signOut("Signed out."));
    if (token()) { signIn(token()); } else { signOut(); }
  });
})();
