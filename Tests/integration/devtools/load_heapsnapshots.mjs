// Loads two .heapsnapshot files into Chrome DevTools' own heap snapshot code (the worker module
// bundled in Chromium, served at devtools://devtools/bundled/), driven over the DevTools protocol
// of a headless Chromium, and prints what its Summary, Containment, Retainers, Dominators and
// Comparison views would show, as JSON.
//
// Usage: node --experimental-websocket load_heapsnapshots.mjs PORT A.heapsnapshot B.heapsnapshot IDS_JSON
// IDS_JSON: {"name": node id, ...} of nodes whose containment, retainers and dominators to print.
import fs from 'node:fs';

const [, , port, fileA, fileB, idsJSON] = process.argv;

const page = async (texts, ids) => {
  const m = await import('devtools://devtools/bundled/entrypoints/heap_snapshot_worker/heap_snapshot_worker.js');
  const load = async (text) => {
    const loader = new m.HeapSnapshotLoader.HeapSnapshotLoader({sendEvent() {}});
    for (let i = 0; i < text.length; i += 65536) loader.write(text.slice(i, i + 65536));
    loader.close();
    await loader.parsingComplete;
    const channel = new MessageChannel();
    new m.HeapSnapshot.SecondaryInitManager(channel.port2);
    return await loader.buildSnapshot(channel.port1);
  };
  const [A, B] = [await load(texts[0]), await load(texts[1])];
  const items = (provider) => provider.serializeItemsRange(0, 1000).items.map(
      (e) => ({edge: String(e.name), type: e.type, node: e.node.name, id: e.node.id}));
  const out = {summary: {}, nodes: {}};
  for (const v of Object.values(A.aggregatesWithFilter({}))) {
    out.summary[v.name] = {count: v.count, self: v.self, maxRet: v.maxRet, distance: v.distance};
  }
  for (const [name, id] of Object.entries(ids)) {
    const index = A.nodeIndexForId(id);
    out.nodes[name] = {
      containment: items(A.createEdgesProvider(index)),
      retainers: items(A.createRetainingEdgesProvider(index)),
      dominators: A.getDominatorsOf(index).map((d) => ({id: d.nodeId, name: d.nodeName, retained: d.retainedSize})),
    };
  }
  out.root = items(A.createEdgesProvider(A.rootNodeIndex));
  out.comparison = {};
  for (const d of Object.values(B.calculateSnapshotDiff('A', A.aggregatesForDiff('[]')))) {
    out.comparison[d.name] = {added: d.addedIds, deleted: d.deletedIds};
  }
  return out;
};

const version = await (await fetch(`http://127.0.0.1:${port}/json/version`)).json();
const ws = new WebSocket(version.webSocketDebuggerUrl);
let next = 0;
const pending = new Map();
ws.onmessage = (message) => {
  const reply = JSON.parse(message.data);
  if (reply.id && pending.has(reply.id)) {
    pending.get(reply.id)(reply);
    pending.delete(reply.id);
  }
};
await new Promise((resolve) => (ws.onopen = resolve));
const send = (method, params = {}, sessionId) => new Promise((resolve) => {
  const id = ++next;
  pending.set(id, resolve);
  ws.send(JSON.stringify({id, method, params, sessionId}));
});
const target = await send('Target.createTarget', {url: 'devtools://devtools/bundled/devtools_app.html'});
const {sessionId} = (await send('Target.attachToTarget', {targetId: target.result.targetId, flatten: true})).result;
const texts = [fs.readFileSync(fileA, 'utf8'), fs.readFileSync(fileB, 'utf8')];
const expression = `(${page.toString()})(${JSON.stringify(texts)}, ${idsJSON})`;
let reply;
for (let attempt = 0; attempt < 50; attempt++) {  // the page's module loader may need a moment
  reply = await send('Runtime.evaluate', {expression, awaitPromise: true, returnByValue: true}, sessionId);
  if (!reply.result?.exceptionDetails) break;
  await new Promise((resolve) => setTimeout(resolve, 200));
}
if (reply.result?.exceptionDetails) {
  console.error(JSON.stringify(reply.result.exceptionDetails));
  process.exit(1);
}
console.log(JSON.stringify(reply.result.result.value));
process.exit(0);
