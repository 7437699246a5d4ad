// The monitoring wall (kinship/calls/views_monitoring.py): each watched call's tile opens the call signalling
// WebSocket as a "monitor" (docs/signalling.md) and shows the video Kinship offers. Kinship subscribes the monitor
// to the parties' video streams alone (PF 4.21): the offers carry no audio m-line, and this page has no audio
// element. Nothing secret is in the page: the browser sends its session and terminal cookies, nothing else.
//
// The "watch" and "stop watching" forms work without this script (a POST and a reload); with it they are posted
// in the background and only the lists change, because reloading would close every tile's socket, which ends
// those viewings (and pauses any live prison call nobody else watches, PF 4.21).

import { initAll } from "/static/govuk/govuk-frontend.min.js";

const tiles = new Map(); // viewing id -> {socket, peers: Map(subscription -> RTCPeerConnection), element}
const PARTY_LABELS = { resident: "Person in custody", contact: "Contact" };
const STATE_LABELS = {
  ready: "Ready to start",
  live: "Live",
  paused: "Paused: the people on the call cannot see or hear each other. You are still watching",
  resumed: "Live",
  ended: "Ended",
  terminated: "Terminated by staff",
  failed: "Failed (technical problem)",
  no_show: "Did not take place",
};

function socketUrl(booking) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}/ws/calls/${booking}/`;
}

function say(tile, text) {
  const status = tile.element.querySelector("[data-tile-status]");
  if (status) status.textContent = text;
}

function closePeer(tile, subscription) {
  const peer = tile.peers.get(subscription);
  if (peer) peer.close();
  tile.peers.delete(subscription);
  tile.element.querySelector(`[data-subscription="${CSS.escape(subscription)}"]`)?.remove();
}

function stopTile(tile) {
  for (const subscription of [...tile.peers.keys()]) closePeer(tile, subscription);
  if (tile.socket.readyState <= WebSocket.OPEN) tile.socket.close(1000);
}

async function answerOffer(tile, message) {
  const send = (payload) => tile.socket.send(JSON.stringify(payload));
  const peer = new RTCPeerConnection({ iceServers: [] });
  tile.peers.set(message.subscription, peer);
  const figure = document.createElement("figure");
  figure.className = "kinship-wall__video";
  figure.dataset.subscription = message.subscription;
  const video = document.createElement("video");
  video.muted = true; // there is no audio to play; muted also lets the video start without a click
  video.autoplay = true;
  video.playsInline = true;
  const label = PARTY_LABELS[message.party] || "Video";
  video.setAttribute("aria-label", `${label}, video only`);
  const caption = document.createElement("figcaption");
  caption.textContent = label;
  figure.append(video, caption);
  tile.element.querySelector("[data-videos]").append(figure);

  peer.ontrack = (event) => {
    if (event.track.kind !== "video") {
      event.track.stop(); // never played: the media server sends monitors no audio at all
      return;
    }
    video.srcObject = new MediaStream([event.track]);
    say(tile, "Watching: video only, no sound");
  };
  peer.onicecandidate = (event) => {
    send({ type: "ice", target: message.subscription, candidate: event.candidate ? event.candidate.toJSON() : null });
  };
  await peer.setRemoteDescription({ type: "offer", sdp: message.sdp });
  await peer.setLocalDescription(await peer.createAnswer());
  send({ type: "answer", subscription: message.subscription, sdp: peer.localDescription.sdp });
}

function startTile(element) {
  const tile = { element, peers: new Map(), socket: new WebSocket(socketUrl(element.dataset.booking)) };
  tiles.set(element.dataset.viewing, tile);
  tile.socket.onopen = () => tile.socket.send(JSON.stringify({ type: "join", role: "monitor" }));
  tile.socket.onmessage = async (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "joined") {
      say(tile, "Waiting for the video of the people on the call");
    } else if (message.type === "offer") {
      try {
        await answerOffer(tile, message);
      } catch (error) {
        say(tile, `The video could not be shown: ${error.message}`);
      }
    } else if (message.type === "unsubscribed") {
      closePeer(tile, message.subscription);
    } else if (message.type === "state") {
      const state = element.querySelector("[data-state]");
      if (state) state.textContent = STATE_LABELS[message.state] || message.state;
    } else if (message.type === "warning") {
      say(tile, `The call ends in ${message.minutes} minute${message.minutes === 1 ? "" : "s"}`);
    } else if (message.type === "end") {
      say(tile, "The call has ended");
    } else if (message.type === "viewing_ended") {
      say(tile, "You are no longer watching this call");
    } else if (message.type === "error") {
      say(tile, message.message);
    }
  };
  tile.socket.onclose = () => {
    for (const subscription of [...tile.peers.keys()]) closePeer(tile, subscription);
  };
}

function updateTimes() {
  for (const element of document.querySelectorAll("[data-ends-at]")) {
    const left = Math.max(0, Math.ceil((Date.parse(element.dataset.endsAt) - Date.now()) / 60000));
    const target = element.querySelector("[data-time-left]");
    if (target) target.textContent = `${left} minute${left === 1 ? "" : "s"} left`;
  }
}

function syncTiles() {
  const present = new Set();
  for (const element of document.querySelectorAll("[data-viewing]")) {
    present.add(element.dataset.viewing);
    const known = tiles.get(element.dataset.viewing);
    if (known) {
      element.replaceWith(known.element); // keep the video and its socket
      // A video taken out of the page is paused; it plays again once it is back.
      for (const video of known.element.querySelectorAll("video")) video.play().catch(() => {});
    } else if (element.dataset.playable === "true") {
      startTile(element);
    }
  }
  for (const [viewing, tile] of tiles) {
    if (!present.has(viewing)) {
      stopTile(tile);
      tiles.delete(viewing);
    }
  }
}

async function submitInBackground(event) {
  const form = event.target.closest("form[data-wall-action]");
  if (!form) return;
  event.preventDefault();
  const response = await fetch(window.location.pathname, {
    method: "POST",
    body: new FormData(form),
    credentials: "same-origin",
  });
  if (!response.ok) {
    window.location.reload();
    return;
  }
  const next = new DOMParser().parseFromString(await response.text(), "text/html");
  for (const id of ["wall-errors", "wall-watching", "wall-calls"]) {
    const fresh = next.getElementById(id);
    if (fresh) {
      document.getElementById(id).replaceWith(document.adoptNode(fresh));
      initAll({ scope: fresh });
    }
  }
  const main = document.getElementById("main-content");
  for (const banner of main.querySelectorAll(":scope > .govuk-notification-banner")) banner.remove();
  const banners = next.querySelectorAll("#main-content > .govuk-notification-banner");
  for (const banner of [...banners].reverse()) main.prepend(document.adoptNode(banner));
  document.title = next.title;
  syncTiles();
  updateTimes();
  const focus = document.querySelector("#wall-errors .govuk-error-summary") || main.querySelector(".govuk-notification-banner");
  if (focus) {
    focus.setAttribute("tabindex", "-1");
    focus.focus();
  }
}

document.addEventListener("submit", submitInBackground);
syncTiles();
setInterval(updateTimes, 15000);
