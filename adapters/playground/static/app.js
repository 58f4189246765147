// The playground page: a thin view over the JSON API. Messages arrive as HTML rendered
// (and escaped) by the server from Liaison's neutral message model.
"use strict";

const api = "/playground/api/";
const view = {
  speaker: new URLSearchParams(location.search).get("as") || "ann",
  place: null,
  places: [],
  channels: [],
  speakers: [],
  entries: [],
  lastSeq: 0,
  unread: {},
  zone: "UTC",
  now: null,
};
const $ = (id) => document.getElementById(id);

async function call(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const response = await fetch(api + path, options);
  const data = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok && !data.error) data.error = `HTTP ${response.status}`;
  return data;
}

function placeName(place) {
  if (place.startsWith("dm:")) return "Liaison (direct message)";
  const channel = view.channels.find((c) => c.id === place);
  return channel ? `#${channel.name}` : place;
}

function formatTime(iso) {
  const options = { weekday: "short", day: "numeric", month: "short",
    hour: "2-digit", minute: "2-digit", timeZone: view.zone };
  try {
    return new Intl.DateTimeFormat("en-GB", options).format(new Date(iso));
  } catch (error) {
    return iso;
  }
}

async function loadState() {
  const state = await call(`state?as=${encodeURIComponent(view.speaker)}`);
  Object.assign(view, { places: state.places, channels: state.channels,
    speakers: state.speakers, zone: state.zone, now: state.now });
  const picker = $("speaker");
  picker.innerHTML = "";
  for (const s of state.speakers) {
    const option = new Option(s.label, s.id, false, s.id === view.speaker);
    picker.add(option);
  }
  if (!view.places.includes(view.place)) {
    view.place = view.places[0];
  }
  $("travel").querySelector("button").disabled = !state.can_travel;
  showClock();
}

function showClock() {
  $("clock").textContent = view.now ? `Playground time: ${formatTime(view.now)}` : "";
  $("zone").textContent = view.zone;
}

function drawNav() {
  const channels = $("channels");
  const dms = $("dms");
  channels.innerHTML = "";
  dms.innerHTML = "";
  for (const place of view.places) {
    const li = document.createElement("li");
    li.dataset.place = place;
    li.setAttribute("data-testid", `place-${place.replace(":", "-")}`);
    const name = document.createElement("span");
    name.textContent = placeName(place);
    const channel = view.channels.find((c) => c.id === place);
    if (channel && channel.shared) {
      const shared = document.createElement("span");
      shared.className = "shared";
      shared.textContent = "shared with client";
      name.append(shared);
    }
    li.append(name);
    if (view.unread[place]) {
      const badge = document.createElement("span");
      badge.className = "unread";
      badge.textContent = view.unread[place];
      li.append(badge);
    }
    if (place === view.place) li.className = "current";
    li.addEventListener("click", () => choosePlace(place));
    (place.startsWith("dm:") ? dms : channels).append(li);
  }
}

function choosePlace(place) {
  view.place = place;
  view.unread[place] = 0;
  drawNav();
  drawMessages();
}

function entryNode(entry, arrived) {
  const node = document.createElement("div");
  node.className = `entry ${entry.kind === "said" ? "person" : "bot"} kind-${entry.kind}`;
  if (arrived) node.classList.add("arrived");
  node.dataset.seq = entry.seq;
  node.setAttribute("data-testid", `entry-${entry.kind}`);
  const avatar = document.createElement("div");
  avatar.className = "avatar";
  avatar.textContent = entry.author.slice(0, 1);
  const body = document.createElement("div");
  body.className = "body";
  const meta = document.createElement("div");
  meta.className = "meta";
  const author = document.createElement("b");
  author.textContent = entry.author;
  meta.append(author, formatTime(entry.at));
  body.append(meta);
  if (entry.only_for) {
    const note = document.createElement("div");
    note.className = "only-you";
    note.textContent = "Only visible to you";
    body.append(note);
  }
  const content = document.createElement("div");
  content.innerHTML = entry.html; // rendered and escaped by the server
  body.append(content);
  node.append(avatar, body);
  return node;
}

function drawMessages() {
  $("place-title").textContent = placeName(view.place);
  const box = $("messages");
  box.innerHTML = "";
  for (const entry of view.entries) {
    if (entry.place === view.place) box.append(entryNode(entry, false));
  }
  $("empty").hidden = view.entries.length > 0;
  box.scrollTop = box.scrollHeight;
}

async function poll() {
  const speaker = view.speaker;
  const data = await call(`feed?as=${encodeURIComponent(speaker)}&after=${view.lastSeq}`);
  if (data.error || speaker !== view.speaker) return;
  view.now = data.now;
  showClock();
  const box = $("messages");
  let navChanged = false;
  for (const entry of data.entries) {
    if (entry.seq <= view.lastSeq) continue; // a poll that overlapped another
    view.entries.push(entry);
    view.lastSeq = Math.max(view.lastSeq, entry.seq);
    if (entry.place === view.place) {
      box.append(entryNode(entry, entry.kind === "post"));
      box.scrollTop = box.scrollHeight;
    } else if (entry.kind !== "said") {
      view.unread[entry.place] = (view.unread[entry.place] || 0) + 1;
      navChanged = true;
    }
  }
  $("empty").hidden = view.entries.length > 0;
  if (navChanged) drawNav();
}

function notice(text, isError) {
  const old = document.querySelector(".notice");
  if (old) old.remove();
  const node = document.createElement("div");
  node.className = isError ? "notice error" : "notice";
  node.setAttribute("data-testid", "notice");
  node.textContent = text;
  $("place-title").after(node);
  setTimeout(() => node.remove(), 8000);
}

async function send(event) {
  event.preventDefault();
  const line = $("line").value.trim();
  if (!line) return;
  $("line").value = "";
  const data = await call("say", { as: view.speaker, place: view.place, text: line });
  if (data.error) notice(data.error, true);
  await poll();
}

async function press(target) {
  const entry = target.closest(".entry");
  const place = view.entries.find((e) => String(e.seq) === entry.dataset.seq).place;
  const body = { as: view.speaker, place, action_id: target.dataset.actionId,
    value: target.dataset.value || "" };
  if (target.tagName === "FORM") {
    body.fields = Object.fromEntries(new FormData(target).entries());
  }
  const data = await call("action", body);
  if (data.error) notice(data.error, true);
  await poll();
}

async function travel(event) {
  event.preventDefault();
  const form = $("travel");
  const preset = form.preset.value;
  let [day, time] = preset.split("|");
  if (preset === "custom") {
    day = form.day.value;
    time = form.time.value;
  }
  const data = await call("travel", { day, time });
  if (data.error) {
    notice(data.error, true);
    return;
  }
  await poll();
  const posts = data.posts === 1 ? "1 post" : `${data.posts} posts`;
  const quiet = data.posts ? "" : " Nothing was due then (days off and holidays are quiet).";
  notice(`Now ${formatTime(data.now)} (${view.zone}): the scheduler ran; ${posts} arrived.${quiet}`);
  drawNav();
}

async function createDemo() {
  $("demo").disabled = true;
  $("demo").textContent = "Creating…";
  const data = await call("demo", {});
  if (!data.ok) notice(data.error || "The demo could not be created.", true);
  await loadState();
  drawNav();
  await poll();
  drawMessages();
  $("demo").disabled = false;
  $("demo").textContent = "Create the demo project";
}

async function changeSpeaker() {
  view.speaker = $("speaker").value;
  const url = new URL(location.href);
  url.searchParams.set("as", view.speaker);
  history.replaceState(null, "", url);
  Object.assign(view, { entries: [], lastSeq: 0, unread: {} });
  await loadState();
  await poll();
  drawNav();
  drawMessages();
}

async function start() {
  $("composer").addEventListener("submit", send);
  $("travel").addEventListener("submit", travel);
  $("travel").preset.addEventListener("change", (event) => {
    const custom = event.target.value === "custom";
    $("travel").day.hidden = !custom;
    $("travel").time.hidden = !custom;
  });
  $("speaker").addEventListener("change", changeSpeaker);
  $("demo").addEventListener("click", createDemo);
  $("messages").addEventListener("click", (event) => {
    const button = event.target.closest("button.action");
    if (button && !button.closest("form")) press(button);
  });
  $("messages").addEventListener("submit", (event) => {
    event.preventDefault();
    press(event.target);
  });
  await loadState();
  await poll();
  drawNav();
  drawMessages();
  document.body.dataset.ready = "yes";
  setInterval(poll, 1500);
}

start();
