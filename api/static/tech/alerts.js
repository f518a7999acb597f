// A new job while the page is open: a sound (WebAudio), the phone's vibration, and a system notification
// when the technician allowed them. Browsers allow sound and vibration only after a first tap.

let audio = null;

export function unlock() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") return audio.resume();
  } catch (_) { /* no WebAudio: the vibration and the notification remain */ }
  return Promise.resolve();
}

function ring() {
  if (!audio || audio.state !== "running") return false;
  const start = audio.currentTime;
  for (const [at, freq] of [[0, 880], [0.25, 1175], [0.5, 880], [0.75, 1175]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.25, start + at);
    gain.gain.exponentialRampToValueAtTime(0.001, start + at + 0.22);
    osc.connect(gain).connect(audio.destination);
    osc.start(start + at);
    osc.stop(start + at + 0.23);
  }
  return true;
}

function buzz() {
  const active = navigator.userActivation ? navigator.userActivation.hasBeenActive : false;
  if (active && navigator.vibrate) navigator.vibrate([400, 150, 400, 150, 400]);
  return active;
}

async function notify(title, body, tag) {
  if (!("Notification" in window) || Notification.permission !== "granted") return false;
  const options = { body, tag, renotify: true, icon: "/tech/static/icon-192.png", vibrate: [400, 150, 400] };
  const registration = navigator.serviceWorker ? await navigator.serviceWorker.getRegistration("/tech") : null;
  if (registration) await registration.showNotification(title, options); // Android allows only this way
  else new Notification(title, options);
  return true;
}

export const notificationsAllowed = () => !("Notification" in window) || Notification.permission !== "default";

// sound needs a tap on every visit; notifications need the technician's yes once
export const ready = () => Boolean(audio) && notificationsAllowed();

export async function enable() {
  await unlock();
  if ("Notification" in window && Notification.permission === "default") await Notification.requestPermission();
}

// returns what it could do, for the page to record
export async function newJob(title, body, tag) {
  const sound = ring();
  const vibrated = buzz();
  let notified = false;
  try { notified = await notify(title, body, tag); } catch (_) { /* a notification is a courtesy */ }
  return { sound, vibrated, notified };
}
