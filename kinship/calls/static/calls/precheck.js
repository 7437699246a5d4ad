// The pre-call check (docs/signalling.md, "Pre-call check"): browser support, camera and microphone with a
// self-view, the round trip to Kinship over the WebSocket, and a real media test: the browser publishes to a
// throwaway room on the video server and counts the frames that come back through it. Plain JavaScript; the page
// holds nothing secret and the server destroys the room when the check ends.

const TAGS = {
  waiting: ["govuk-tag--grey", "Not checked"],
  running: ["govuk-tag--blue", "Checking"],
  passed: ["govuk-tag--green", "Working"],
  failed: ["govuk-tag--red", "Problem"],
};
const MEDIA_SECONDS = 20;
const ECHO_SECONDS = 3;

function cameraProblem(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "Your browser is not allowing this page to use your camera and microphone. Allow them in your browser's settings for this website, then check again.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return "No camera or microphone was found. Connect a camera and microphone, then check again.";
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return "Your camera or microphone is being used by another app. Close the other app, then check again.";
  }
  return "Your camera and microphone could not be started. Check again, or try another browser.";
}

function candidateJson(candidate) {
  if (!candidate) return null;
  return { candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function withTimeout(promise, ms, message) {
  return Promise.race([promise, sleep(ms).then(() => Promise.reject(new Error(message)))]);
}

function mark(root, name, result, text) {
  const row = root.querySelector(`[data-check="${name}"]`);
  const tag = row.querySelector("[data-check-tag]");
  const [style, label] = TAGS[result];
  tag.className = `govuk-tag ${style}`;
  tag.textContent = label;
  row.querySelector("[data-check-text]").textContent = text || "";
  row.dataset.result = result;
}

// A socket whose messages can be awaited one type at a time.
function openSocket(path) {
  const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  const socket = new WebSocket(scheme + window.location.host + path);
  const inbox = [];
  const waiters = [];
  let closedWith = null;
  let refused = false;
  const deliver = () => {
    for (let i = 0; i < waiters.length; i += 1) {
      const waiter = waiters[i];
      const index = inbox.findIndex((message) => waiter.types.includes(message.type));
      if (index >= 0) {
        waiters.splice(i, 1);
        i -= 1;
        waiter.resolve(inbox.splice(index, 1)[0]);
      } else if (closedWith !== null) {
        waiters.splice(i, 1);
        i -= 1;
        const problem = new Error(closedWith);
        problem.refused = refused;
        waiter.reject(problem);
      }
    }
  };
  socket.addEventListener("message", (event) => {
    try {
      inbox.push(JSON.parse(event.data));
    } catch {
      return;
    }
    deliver();
  });
  socket.addEventListener("close", () => {
    const refusal = inbox.find((message) => message.type === "error");
    closedWith = refusal ? refusal.message : "The connection closed.";
    refused = Boolean(refusal);
    deliver();
  });
  const opened = new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve, { once: true });
    socket.addEventListener("error", () => reject(new Error("Could not connect.")), { once: true });
  });
  return {
    socket,
    opened,
    send: (message) => socket.readyState === WebSocket.OPEN && socket.send(JSON.stringify(message)),
    next: (...types) =>
      new Promise((resolve, reject) => {
        waiters.push({ types, resolve, reject });
        deliver();
      }),
  };
}

async function inboundTotals(pc) {
  const totals = { video: 0, audio: 0 };
  const report = await pc.getStats();
  report.forEach((stat) => {
    if (stat.type !== "inbound-rtp") return;
    if (stat.kind === "video") totals.video += stat.framesDecoded || 0;
    if (stat.kind === "audio") totals.audio += stat.packetsReceived || 0;
  });
  return totals;
}

async function mediaCheck(channel, stream) {
  const publisher = new RTCPeerConnection({ iceServers: [] });
  const echo = new RTCPeerConnection({ iceServers: [] });
  try {
    for (const track of [...stream.getAudioTracks(), ...stream.getVideoTracks()]) {
      publisher.addTransceiver(track, { direction: "sendonly", streams: [stream] });
    }
    publisher.addEventListener("icecandidate", (event) => {
      if (event.candidate && !event.candidate.candidate) return;
      channel.send({ type: "ice", target: "publisher", candidate: candidateJson(event.candidate) });
    });
    await publisher.setLocalDescription(await publisher.createOffer());
    channel.send({ type: "offer", sdp: publisher.localDescription.sdp });
    const answer = await channel.next("answer", "error");
    if (answer.type === "error") throw new Error(answer.message);
    await publisher.setRemoteDescription({ type: "answer", sdp: answer.sdp });
    const up = await channel.next("media", "error");
    if (up.type === "error") throw new Error(up.message);
    const offer = await channel.next("offer", "error");
    if (offer.type === "error") throw new Error(offer.message);
    echo.addEventListener("icecandidate", (event) => {
      if (event.candidate && !event.candidate.candidate) return;
      channel.send({ type: "ice", target: offer.subscription, candidate: candidateJson(event.candidate) });
    });
    await echo.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    await echo.setLocalDescription(await echo.createAnswer());
    channel.send({ type: "answer", subscription: offer.subscription, sdp: echo.localDescription.sdp });
    let totals = { video: 0, audio: 0 };
    const deadline = Date.now() + 10_000;
    while (totals.video === 0 && Date.now() < deadline) {
      await sleep(500);
      totals = await inboundTotals(echo);
    }
    await sleep(ECHO_SECONDS * 1000);
    return await inboundTotals(echo);
  } finally {
    channel.send({ type: "leave" });
    publisher.close();
    echo.close();
  }
}

async function run(root, button) {
  button.disabled = true;
  const summary = root.querySelector('[data-precheck="summary"]');
  summary.textContent = "Checking. This takes about 20 seconds";
  for (const name of ["support", "camera", "kinship", "media"]) mark(root, name, "waiting");
  let stream = null;
  let channel = null;
  try {
    // 1. The browser.
    mark(root, "support", "running");
    const missing = [];
    if (!("RTCPeerConnection" in window)) missing.push("video calls (WebRTC)");
    if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) missing.push("the camera");
    if (!("WebSocket" in window)) missing.push("live connections (WebSocket)");
    if (missing.length) {
      mark(root, "support", "failed", `This browser cannot use ${missing.join(", ")}. Use an up-to-date Chrome, Edge, Firefox or Safari.`);
    } else {
      mark(root, "support", "passed", "This browser can make video calls.");
    }

    // 2. Camera and microphone, with a self-view.
    mark(root, "camera", "running");
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: true,
        video: { width: { ideal: 640 }, height: { ideal: 480 } },
      });
      const [camera] = stream.getVideoTracks();
      const [microphone] = stream.getAudioTracks();
      if (!camera || !microphone) {
        mark(root, "camera", "failed", "A camera and a microphone are both needed. Connect the missing one, then check again.");
      } else {
        mark(root, "camera", "passed", `Using ${camera.label || "your camera"} and ${microphone.label || "your microphone"}. Check that you can see yourself below.`);
      }
      const self = root.querySelector('[data-precheck="self"]');
      self.srcObject = stream;
      root.querySelector('[data-precheck="preview"]').hidden = false;
      self.play().catch(() => {});
    } catch (error) {
      mark(root, "camera", "failed", cameraProblem(error));
    }

    // 3. The WebSocket round trip to Kinship.
    mark(root, "kinship", "running");
    try {
      channel = openSocket(root.dataset.socket);
      await withTimeout(channel.opened, 10_000, "Could not connect.");
      const times = [];
      for (let id = 1; id <= 3; id += 1) {
        const sent = performance.now();
        channel.send({ type: "ping", id });
        const reply = await withTimeout(channel.next("pong", "error"), 10_000, "No answer.");
        if (reply.type === "error") throw new Error(reply.message);
        times.push(performance.now() - sent);
      }
      const average = Math.round(times.reduce((a, b) => a + b, 0) / times.length);
      mark(root, "kinship", "passed", `Connected. Messages take about ${average} milliseconds there and back.`);
    } catch (error) {
      // Kinship's own refusal says what to do; anything else is most likely the network.
      const advice = error.refused ? "" : " Your network may block live connections: try another network, or mobile data.";
      mark(root, "kinship", "failed", `${error.message}${advice}`);
      channel = null;
    }

    // 4. Media to the video server and back.
    mark(root, "media", "running");
    if (!stream || !channel) {
      mark(root, "media", "failed", "Not checked: the camera or the connection above needs fixing first.");
    } else {
      try {
        const totals = await withTimeout(mediaCheck(channel, stream), MEDIA_SECONDS * 1000, "The video server did not answer in time.");
        root.dataset.framesBack = String(totals.video);
        if (totals.video > 0 && totals.audio > 0) {
          mark(root, "media", "passed", "Your video and sound reached the video server and came back.");
        } else if (totals.video > 0) {
          mark(root, "media", "failed", "Your video reached the video server but your sound did not. Check your microphone.");
        } else {
          mark(root, "media", "failed", "Your video did not come back from the video server. Your network may block video calls: try another network, or mobile data.");
        }
      } catch (error) {
        mark(root, "media", "failed", `${error.message} Your network may block video calls: try another network, or mobile data.`);
      }
    }
  } finally {
    if (channel) channel.socket.close();
    const rows = [...root.querySelectorAll("[data-check]")];
    const problems = rows.filter((row) => row.dataset.result !== "passed").length;
    summary.textContent = problems
      ? `Check finished: ${problems} ${problems === 1 ? "problem" : "problems"} found. Fix ${problems === 1 ? "it" : "them"}, then check again.`
      : "Check finished: everything is working. You are ready for your call.";
    root.dataset.finished = problems ? "problems" : "passed";
    button.textContent = "Check again";
    button.disabled = false;
    if (stream) {
      // Keep the self-view for a little while, then let the camera go.
      setTimeout(() => stream.getTracks().forEach((track) => track.stop()), 30_000);
    }
  }
}

const root = document.querySelector("[data-kinship-precheck]");
if (root) {
  const button = root.querySelector('[data-precheck="start"]');
  button.addEventListener("click", () => run(root, button));
}
