// The videoqa page: plain JavaScript over the JSON API (no build step). A token given as ?token=... in
// the page's address is sent with every call (as a header, or in the address of media the browser fetches).
"use strict";

const token = new URLSearchParams(location.search).get("token");
const $ = (id) => document.getElementById(id);
const state = { video: null, thread: null, videos: [] };

function withToken(url) {
  return token ? url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : url;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  const body = await response.json().catch(() => ({ error: response.statusText }));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function notice(message) {
  $("notice").textContent = message || "";
  $("notice").hidden = !message;
}

const baseName = (path) => path.split(/[\\/]/).pop();
// A `thumbnail` in the documents is a file in the store; the API serves it as thumbs/VIDEO/FILE.
const thumbUrl = (path) => withToken("api/thumbs/" + path.split(/[\\/]/).slice(-2).map(encodeURIComponent).join("/"));
const frameUrl = (video, t) => withToken(`api/videos/${video}/thumbnail?t=${t}`);
const clipUrl = (video, start, end) => withToken(`api/videos/${video}/clip?start=${start.toFixed(2)}&end=${end.toFixed(2)}`);

// -- the library and the player ------------------------------------------------------------------
async function loadVideos(select) {
  const { videos } = await api("api/videos");
  state.videos = videos;
  const list = $("videos");
  list.replaceChildren(...videos.map((v) =>
    el("option", { value: v.id }, `${baseName(v.path)} (${clock(v.duration)})${v.status === "ready" ? "" : " – indexing"}`)));
  const chosen = select || state.video || (videos.find((v) => v.status === "ready") || {}).id;
  if (chosen) choose(chosen);
}

function choose(id) {
  if (state.video === id) return;
  state.video = id;
  state.thread = null;
  $("videos").value = id;
  $("player").src = withToken(`api/videos/${id}/stream`);
}

// Seek once the player knows the video's length (setting currentTime earlier is not kept everywhere).
function seek(video, start) {
  choose(video);
  const player = $("player");
  const go = () => {
    player.currentTime = start;
    player.play().catch(() => {}); // a browser may refuse to play; the frame at `start` still shows
  };
  if (player.readyState >= 1) go();
  else player.addEventListener("loadedmetadata", go, { once: true });
}

// -- adding videos and following the indexing job ----------------------------------------------
function follow(job, video) {
  $("job").hidden = false;
  const events = new EventSource(withToken(`api/jobs/${job}/events`));
  const show = (message) => {
    const data = JSON.parse(message.data);
    $("job-bar").value = data.fraction;
    const name = baseName(data.path);
    $("job-text").textContent = data.state === "failed" ? `${name}: failed: ${data.error}`
      : data.state === "done" ? `${name}: ready, ${clock(data.total)}, ${data.scenes} scene${data.scenes === 1 ? "" : "s"}`
      : `${name}: ${data.state} ${data.stage} ${clock(data.position)}/${clock(data.total)}`;
    return data;
  };
  events.addEventListener("progress", show);
  events.addEventListener("done", (message) => { show(message); events.close(); loadVideos(video); });
  events.addEventListener("failed", (message) => { show(message); events.close(); });
}

async function addVideo(options) {
  notice("");
  try {
    const { job, video } = await api("api/videos", options);
    follow(job, video);
  } catch (error) {
    notice(error.message);
  }
}

$("add-path").addEventListener("submit", (event) => {
  event.preventDefault();
  addVideo({ method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ path: $("path").value }) });
});

$("upload").addEventListener("change", () => {
  const file = $("upload").files[0];
  if (!file) return;
  const form = new FormData();
  form.append("file", file);
  addVideo({ method: "POST", body: form });
});

$("videos").addEventListener("change", () => choose($("videos").value));

// -- moments: chips with an evidence thumbnail, a seek on click, and a clip to download ----------
function momentChip(moment, evidence) {
  const item = (moment.evidence_ids || []).map((id) => evidence[id]).find((e) => e && e.thumbnail);
  const picture = item ? thumbUrl(item.thumbnail) : frameUrl(moment.video, moment.start);
  const chip = el("button", { class: "chip", type: "button", "data-start": moment.start, "data-video": moment.video,
                              title: moment.why || "", onclick: () => seek(moment.video, moment.start) },
    el("img", { src: picture, alt: "" }), `${clock(moment.start)}–${clock(moment.end)}`);
  const download = el("a", { class: "clip", href: clipUrl(moment.video, moment.start, moment.end), download: "" }, "download clip");
  return el("span", { class: "moment" }, chip, download);
}

function showAnswer(box, answer) {
  const evidence = Object.fromEntries((answer.evidence || []).map((e) => [e.id, e]));
  box.querySelector(".steps").remove();
  box.append(el("p", {}, answer.answer));
  if (answer.moments.length) box.append(el("div", { class: "moments" }, ...answer.moments.map((m) => momentChip(m, evidence))));
  state.thread = answer.thread;
}

// POST /api/ask/stream: server-sent events read from the response body (EventSource cannot POST).
async function ask(question) {
  const messages = $("messages");
  messages.append(el("div", { class: "message question" }, question));
  const box = el("div", { class: "message answer" }, el("ul", { class: "steps" }));
  messages.append(box);
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch("api/ask/stream", { method: "POST", headers,
    body: JSON.stringify({ video: state.video, question, thread: state.thread }) });
  if (!response.ok) {
    const body = await response.json().catch(() => ({ error: response.statusText }));
    box.replaceChildren(el("p", { class: "error" }, body.error));
    return;
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = (block.match(/^event: (.*)$/m) || [])[1];
      const data = JSON.parse((block.match(/^data: (.*)$/m) || [])[1] || "{}");
      if (event === "answer") showAnswer(box, data);
      else if (event === "error") box.replaceChildren(el("p", { class: "error" }, data.error));
      else box.querySelector(".steps")?.append(el("li", {}, data.summary || event));
    }
    messages.scrollTop = messages.scrollHeight;
  }
}

$("ask").addEventListener("submit", (event) => {
  event.preventDefault();
  const question = $("question").value.trim();
  if (!question || !state.video) return notice(state.video ? "" : "Pick or add a video first.");
  $("question").value = "";
  ask(question).catch((error) => notice(error.message));
});

// -- search: a strip of thumbnails ----------------------------------------------------------------
$("search").addEventListener("submit", async (event) => {
  event.preventDefault();
  notice("");
  const params = new URLSearchParams({ q: $("query").value, k: "8" });
  if (!$("everywhere").checked && state.video) params.set("video", state.video);
  try {
    const { moments } = await api("api/search?" + params);
    $("strip").replaceChildren(...(moments.length ? moments.map((m) =>
      el("button", { class: "shot", type: "button", "data-start": m.start, title: m.text, onclick: () => seek(m.video, m.start) },
        el("img", { src: m.thumbnail ? thumbUrl(m.thumbnail) : frameUrl(m.video, m.start), alt: "" }),
        el("span", {}, `${clock(m.start)}–${clock(m.end)}`))) : [el("p", {}, "No moments found.")]));
  } catch (error) {
    notice(error.message);
  }
});

loadVideos().catch((error) => notice(error.message));
