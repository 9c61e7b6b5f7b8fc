// The reference for the fan-out bench: Node.js socket.io 4.8 doing what Treffpunkt's /live namespace does
// on the wire, and nothing else. A client connects to /live with auth {event, since}, joins its event's room
// and gets `synced`; POST /bench/change broadcasts one `change` (the next revision, the posted payload) to
// the room; a `heartbeat` with the revision goes to the room every 15 s, as in webapp/live/broadcast.py.
//
//   node reference-server.mjs PORT
import http from "node:http";
import { Server } from "socket.io";

const port = Number(process.argv[2] || 5300);
const HEARTBEAT_MS = 15000;
let revision = 0;

const httpServer = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") {
    res.end("ok");
    return;
  }
  if (req.method === "POST" && req.url.startsWith("/bench/change")) {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || "{}");
      revision += 1;
      const message = { ...body.payload, revision };
      live.to(`event:${body.event}`).emit("change", message);
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ revision }));
    });
    return;
  }
  res.statusCode = 404;
  res.end();
});

// Same transports and ping timing as Treffpunkt (create_app: 20 s interval, 20 s timeout).
const io = new Server(httpServer, { serveClient: false, pingInterval: 20000, pingTimeout: 20000 });
const live = io.of("/live");
live.on("connection", (socket) => {
  const slug = socket.handshake.auth && socket.handshake.auth.event;
  if (typeof slug !== "string") {
    socket.disconnect(true);
    return;
  }
  socket.join(`event:${slug}`);
  socket.emit("synced", { revision, server_time: new Date().toISOString() });
});

setInterval(() => {
  live.to("event:kl-2018").emit("heartbeat", { revision, server_time: new Date().toISOString() });
}, HEARTBEAT_MS);

httpServer.listen(port, "127.0.0.1", () => console.log(`reference socket.io ${port}`));
