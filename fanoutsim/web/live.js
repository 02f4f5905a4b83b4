// Shared by the flight board (index.html) and the room page (room.html): find the APIs in
// config.json, load the flights once over REST, then apply pushed updates from the
// WebSocket API. After a dropped socket: reconnect after 1 s, 2 s, 4 s ... at most 30 s,
// with jitter, reloading the flights first (updates sent while away are not replayed).
// With an authorizer on $connect, open the page with ?token=... (serve prints the link).
function startLive({ query, render, show, onOpen, onMessage }) {
  let config = null;
  let socket = null;
  let attempt = 0;

  async function loadFlights() {
    for (const flight of await (await fetch(config.rest + "/flights")).json()) render(flight, false);
  }

  function connect() {
    const token = new URLSearchParams(location.search).get("token");
    const auth = token ? "&token=" + encodeURIComponent(token) : "";
    socket = new WebSocket(config.websocket + query() + auth);
    socket.onopen = () => { attempt = 0; onOpen(config); };
    socket.onclose = () => {
      const delay = Math.min(30, 2 ** attempt) * (0.8 + 0.4 * Math.random());
      attempt += 1;
      show(`disconnected: reconnecting in ${delay.toFixed(1)} s (attempt ${attempt})`, "waiting");
      setTimeout(() => loadFlights().then(connect, connect), delay * 1000);
    };
    socket.onmessage = (message) => onMessage(JSON.parse(message.data), socket);
  }

  async function start() {
    config = await (await fetch("config.json")).json();
    await loadFlights();
    connect();
  }
  start().catch((error) => show("error: " + error, "closed"));

  // Connect again at once (a new name on the room page), without the backoff.
  return {
    reconnect() {
      if (socket) { socket.onclose = null; socket.close(); }
      attempt = 0;
      connect();
    },
  };
}
