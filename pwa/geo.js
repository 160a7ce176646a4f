// The location taken at check-in: {lat, lon, accuracy_m}, or null when refused, unavailable or slow.
export function currentLocation({ timeoutMs = 10000, geolocation = globalThis.navigator?.geolocation } = {}) {
  if (!geolocation) return Promise.resolve(null);
  return new Promise((resolve) => {
    // Our own timer too: some browsers never call back while the permission prompt stays open.
    const timer = setTimeout(() => resolve(null), timeoutMs + 1000);
    geolocation.getCurrentPosition(
      (p) => {
        clearTimeout(timer);
        resolve({
          lat: Math.round(p.coords.latitude * 1e6) / 1e6,
          lon: Math.round(p.coords.longitude * 1e6) / 1e6,
          accuracy_m: Math.round(p.coords.accuracy),
        });
      },
      () => { clearTimeout(timer); resolve(null); },
      { enableHighAccuracy: true, timeout: timeoutMs, maximumAge: 60000 },
    );
  });
}
