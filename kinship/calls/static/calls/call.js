// Kinship's call client: the browser side of the signalling protocol in docs/signalling.md, for the contact's
// call page and the resident terminal's call screen. Plain JavaScript, no framework. The page gives it only
// public facts in data-* attributes (the socket path, the slot's times, the role); every decision (who may join,
// who is on the booking, when the call is live) is made by Kinship, and nothing secret is ever sent here.
//
// Flow: open the WebSocket and "join" (the contact names the booked people with them, PF 4.13/4.14); publish the
// camera and microphone with an offer (the contact at once, the terminal when the officer starts the call);
// answer each subscription's offer to receive the other side; follow the pushed "state", "warning" and "end".
// A dropped socket or a failed media connection rejoins by itself while the slot lasts.

const STATE_TEXT = {
  scheduled: "The call is open. Staff are getting ready",
  ready: "Everyone is ready. Waiting for the officer to start the call",
  live: "The call is live",
  resumed: "The call is live again",
  paused: "Staff have paused the call. You cannot see or hear each other for now",
  ended: "The call has ended",
  terminated: "Staff ended the call",
  failed: "The call stopped because of a technical problem. Staff will be in touch to arrange another",
  no_show: "The call did not take place",
};
const FINAL = new Set(["ended", "terminated", "failed", "no_show"]);
const RUNNING = new Set(["live", "paused"]);
const NOT_OPEN = 4409;
const REFUSED = new Set([4401, 4403]);
const NORMAL = 1000;

function cameraProblem(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "Your browser is not allowing this page to use your camera and microphone. Allow them in your browser's settings for this website, then try again";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return "No camera or microphone was found. Connect a camera and microphone, then try again";
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return "Your camera or microphone is being used by another app. Close the other app, then try again";
  }
  return "Your camera and microphone could not be started. Try again, or use another browser";
}

function clock(seconds) {
  const whole = Math.max(0, Math.floor(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, "0");
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

function candidateJson(candidate) {
  if (!candidate) return null;
  return { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex };
}

export function startCall(root) {
  const part = (name) => root.querySelector(`[data-call="${name}"]`);
  const role = root.dataset.role;
  const publishAt = root.dataset.publish || "join"; // "join" or "live"
  const skew = Date.parse(root.dataset.serverNow) - Date.now() || 0;
  const now = () => Date.now() + skew;
  const rtcConfig = { iceServers: [] };

  const s = {
    socket: null,
    joined: false,
    everJoined: false,
    participants: [],
    state: root.dataset.state || "",
    endsAt: Date.parse(root.dataset.endsAt),
    stream: null,
    publisher: null,
    subscriptions: new Map(),
    remote: new MediaStream(),
    warned: new Set(),
    attempts: 0,
    over: false,
    left: false,
    retry: null,
    lastError: null,
  };

  const status = part("status");
  const selfVideo = part("self");
  const remoteVideo = part("remote");

  function setStatus(text) {
    if (status && status.textContent !== text) status.textContent = text;
  }

  function showError(text) {
    const box = part("error");
    if (!box) return;
    part("error-text").textContent = text;
    box.hidden = false;
  }

  function clearError() {
    const box = part("error");
    if (box) box.hidden = true;
  }

  // Keeps keyboard and screen reader users in place when the control they used disappears.
  function focusOn(element) {
    if (!element) return;
    element.setAttribute("tabindex", "-1");
    element.focus();
  }

  function send(message) {
    if (s.socket && s.socket.readyState === WebSocket.OPEN) s.socket.send(JSON.stringify(message));
  }

  // --- End warnings: GOV.UK notification banners in an aria-live region ------------------------------------------

  function warn(minutes) {
    if (s.warned.has(minutes) || s.over) return;
    s.warned.add(minutes);
    const region = part("notices");
    if (!region) return;
    const id = `call-warning-${minutes}`;
    const banner = document.createElement("div");
    banner.className = "govuk-notification-banner";
    banner.setAttribute("role", "region");
    banner.setAttribute("aria-labelledby", id);
    banner.dataset.minutes = String(minutes);
    const header = document.createElement("div");
    header.className = "govuk-notification-banner__header";
    const title = document.createElement("h2");
    title.className = "govuk-notification-banner__title";
    title.id = id;
    title.textContent = "Important";
    header.append(title);
    const content = document.createElement("div");
    content.className = "govuk-notification-banner__content";
    const heading = document.createElement("p");
    heading.className = "govuk-notification-banner__heading";
    heading.textContent =
      minutes === 1 ? "The call ends in 1 minute" : `The call ends in ${minutes} minutes`;
    content.append(heading);
    banner.append(header, content);
    region.replaceChildren(banner);
  }

  // --- The timer ------------------------------------------------------------------------------------------------

  function tick() {
    const timer = part("timer");
    const left = (s.endsAt - now()) / 1000;
    if (timer && Number.isFinite(left)) timer.textContent = clock(left);
    if (RUNNING.has(s.state) && !s.over) {
      // The clock's warnings are pushed; these only stand in if a push was missed (a reconnect at that moment).
      if (left <= 60) warn(1);
      else if (left <= 300) warn(5);
    }
  }

  // --- Camera and microphone ------------------------------------------------------------------------------------

  async function camera() {
    if (s.stream) return s.stream;
    try {
      s.stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: { ideal: 640 }, height: { ideal: 480 } },
      });
    } catch (error) {
      showError(cameraProblem(error));
      return null;
    }
    if (selfVideo) {
      selfVideo.srcObject = s.stream;
      selfVideo.play().catch(() => {});
    }
    const media = part("media");
    if (media) media.hidden = false;
    return s.stream;
  }

  function stopCamera() {
    if (s.stream) s.stream.getTracks().forEach((track) => track.stop());
    s.stream = null;
  }

  // --- Media sessions -------------------------------------------------------------------------------------------

  function wantsToPublish() {
    return (
      s.joined &&
      !s.publisher &&
      (role === "contact" || role === "resident") &&
      (publishAt === "join" || RUNNING.has(s.state))
    );
  }

  function watchConnection(pc) {
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed" && !s.over && !s.left && s.socket) {
        setStatus("Your video connection was lost. Reconnecting");
        s.socket.close(4000); // the server closes our media sessions; we join again
      }
    });
  }

  async function publish() {
    if (!wantsToPublish()) return;
    const stream = await camera();
    if (!stream || !wantsToPublish()) return;
    const pc = new RTCPeerConnection(rtcConfig);
    s.publisher = pc;
    watchConnection(pc);
    // Audio first, then video: the media server numbers them mid 0 and 1.
    for (const track of [...stream.getAudioTracks(), ...stream.getVideoTracks()]) {
      pc.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    }
    pc.addEventListener("icecandidate", (event) => {
      if (s.publisher !== pc || (event.candidate && !event.candidate.candidate)) return;
      send({ type: "ice", target: "publisher", candidate: candidateJson(event.candidate) });
    });
    await pc.setLocalDescription(await pc.createOffer());
    send({ type: "offer", sdp: pc.localDescription.sdp });
  }

  function playRemote() {
    if (!remoteVideo) return;
    if (remoteVideo.srcObject !== s.remote) remoteVideo.srcObject = s.remote;
    remoteVideo.play().catch(() => {
      // Autoplay with sound needs a press on some devices: offer one.
      const start = part("play");
      if (start) start.hidden = false;
    });
  }

  async function subscribe(id, sdp) {
    const pc = new RTCPeerConnection(rtcConfig);
    s.subscriptions.set(id, pc);
    watchConnection(pc);
    pc.addEventListener("track", (event) => {
      s.remote.addTrack(event.track);
      event.track.addEventListener("ended", () => s.remote.removeTrack(event.track));
      const waiting = part("remote-waiting");
      if (waiting) waiting.hidden = true;
      playRemote();
    });
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate && !event.candidate.candidate) return;
      send({ type: "ice", target: id, candidate: candidateJson(event.candidate) });
    });
    await pc.setRemoteDescription({ type: "offer", sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    send({ type: "answer", subscription: id, sdp: pc.localDescription.sdp });
  }

  function dropSubscription(id) {
    const pc = s.subscriptions.get(id);
    if (!pc) return;
    s.subscriptions.delete(id);
    for (const receiver of pc.getReceivers()) {
      if (receiver.track) s.remote.removeTrack(receiver.track);
    }
    pc.close();
    const waiting = part("remote-waiting");
    if (waiting && s.subscriptions.size === 0) waiting.hidden = false;
  }

  function closeMedia() {
    for (const id of [...s.subscriptions.keys()]) dropSubscription(id);
    if (s.publisher) s.publisher.close();
    s.publisher = null;
  }

  // --- States ---------------------------------------------------------------------------------------------------

  function showState(name) {
    const state = name === "resumed" ? "live" : name;
    s.state = state;
    root.dataset.state = state;
    setStatus(STATE_TEXT[name] || STATE_TEXT[state] || "");
    const live = part("live");
    if (live) live.hidden = !RUNNING.has(state);
    const paused = part("paused");
    if (paused) paused.hidden = state !== "paused";
    const waiting = part("waiting");
    if (waiting) waiting.hidden = RUNNING.has(state) || FINAL.has(state);
  }

  function finish(state, text) {
    if (s.over) return;
    s.over = true;
    clearTimeout(s.retry);
    closeMedia();
    stopCamera();
    showState(state);
    for (const name of ["live", "media", "waiting", "leave"]) {
      const element = part(name);
      if (element) element.hidden = true;
    }
    const ended = part("ended");
    if (ended) {
      part("ended-text").textContent = text || STATE_TEXT[state] || "The call has ended";
      ended.hidden = false;
      focusOn(ended.querySelector("h2"));
    }
    if (s.socket) s.socket.close(NORMAL);
    if (root.dataset.afterEnd === "reload") setTimeout(() => window.location.reload(), 60_000);
  }

  // --- The socket -----------------------------------------------------------------------------------------------

  async function receive(message) {
    switch (message.type) {
      case "joined":
        s.joined = true;
        s.everJoined = true;
        s.attempts = 0;
        clearError();
        if (message.ends_at) s.endsAt = Date.parse(message.ends_at);
        showState(message.state);
        tick();
        await publish();
        break;
      case "answer":
        if (s.publisher) await s.publisher.setRemoteDescription({ type: "answer", sdp: message.sdp });
        break;
      case "offer":
        await subscribe(message.subscription, message.sdp);
        break;
      case "unsubscribed":
        dropSubscription(message.subscription);
        break;
      case "state":
        if (FINAL.has(message.state)) {
          finish(message.state);
        } else {
          showState(message.state);
          await publish();
        }
        break;
      case "warning":
        if (message.ends_at) s.endsAt = Date.parse(message.ends_at);
        warn(message.minutes);
        break;
      case "end":
        finish(message.state);
        break;
      case "error":
        s.lastError = message;
        if (!String(message.code).startsWith("protocol.")) showError(message.message);
        break;
      default:
        break;
    }
  }

  function scheduleConnect(delay) {
    clearTimeout(s.retry);
    s.retry = setTimeout(connect, delay);
  }

  function closed(socket, event) {
    if (socket !== s.socket) return;
    s.socket = null;
    s.joined = false;
    closeMedia();
    if (s.over || s.left) return;
    if (now() >= s.endsAt) {
      finish("ended", "The time for this call has passed");
      return;
    }
    if (REFUSED.has(event.code)) {
      showError((s.lastError && s.lastError.message) || "You cannot join this call");
      setStatus("You cannot join this call");
      return;
    }
    if (event.code === NOT_OPEN) {
      if (s.everJoined) {
        finish("ended", "The call is no longer open");
        return;
      }
      setStatus(`${STATE_TEXT_WAITING} ${root.dataset.opensText || ""}`.trim());
      scheduleConnect(5000);
      return;
    }
    s.attempts += 1;
    setStatus("The connection dropped. Reconnecting");
    scheduleConnect(Math.min(1000 * 2 ** (s.attempts - 1), 10_000));
  }

  function connect() {
    if (s.over || s.left || s.socket) return;
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + window.location.host + root.dataset.socket);
    s.socket = socket;
    socket.addEventListener("open", () => {
      const join = { type: "join", role };
      if (role === "contact") join.participants = s.participants;
      send(join);
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      receive(message).catch(() => {
        setStatus("Something went wrong with the video. Reconnecting");
        if (s.socket === socket) socket.close(4000);
      });
    });
    socket.addEventListener("close", (event) => closed(socket, event));
  }

  // --- The page's controls --------------------------------------------------------------------------------------

  const form = part("join-form");
  if (form) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearError();
      const button = form.querySelector("button");
      button.disabled = true;
      if (!(await camera())) {
        button.disabled = false;
        return;
      }
      s.participants = [...form.querySelectorAll("input[name=participants]:checked")].map((box) => box.value);
      form.hidden = true;
      const leave = part("leave");
      if (leave) leave.hidden = false;
      setStatus("Joining");
      focusOn(status);
      connect();
    });
  }

  const leave = part("leave");
  if (leave) {
    leave.addEventListener("click", () => {
      s.left = true;
      send({ type: "leave" });
      closeMedia();
      stopCamera();
      for (const name of ["live", "media", "leave"]) {
        const element = part(name);
        if (element) element.hidden = true;
      }
      const left = part("left");
      if (left) left.hidden = false;
      setStatus("You have left the call");
      focusOn(left);
    });
  }

  const play = part("play");
  if (play) {
    play.addEventListener("click", () => {
      play.hidden = true;
      playRemote();
    });
  }

  // Frames shown from the other side (also what the browser tests read).
  if (remoteVideo && "requestVideoFrameCallback" in HTMLVideoElement.prototype) {
    let frames = 0;
    const count = () => {
      frames += 1;
      remoteVideo.dataset.frames = String(frames);
      remoteVideo.requestVideoFrameCallback(count);
    };
    remoteVideo.requestVideoFrameCallback(count);
  }

  tick();
  setInterval(tick, 1000);
  if (root.dataset.auto === "true") connect();
}

const STATE_TEXT_WAITING = "The call has not opened yet. This page will connect by itself when it opens.";

for (const root of document.querySelectorAll("[data-kinship-call]")) startCall(root);

const refresh = document.querySelector("[data-kinship-refresh]");
if (refresh) {
  setTimeout(() => window.location.reload(), Number(refresh.dataset.kinshipRefresh) * 1000);
}
