// Steps waiting to be sent, in the order they were taken, kept in IndexedDB so that a step taken in a
// basement with no signal survives the page being closed; photos are kept as the camera's Blobs.

const DB_NAME = "caretaker-tech";
const STORE = "steps";
let opened = null;

function db() {
  opened = opened || new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "seq", autoIncrement: true });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opened;
}

async function run(mode, act) {
  const store = (await db()).transaction(STORE, mode).objectStore(STORE);
  return new Promise((resolve, reject) => {
    const request = act(store);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export const add = (step) => run("readwrite", (s) => s.add(step));
export const put = (step) => run("readwrite", (s) => s.put(step));
export const remove = (seq) => run("readwrite", (s) => s.delete(seq));
export const all = () => run("readonly", (s) => s.getAll()); // in key order: the order taken
