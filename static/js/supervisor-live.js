// The supervisor dashboard's "Now" figures: polled from the live endpoint
// every few seconds. Polling, not the console's socket: the figures are a
// handful of counts, a supervisor's tab may stay open all day, and a GET
// that fails simply shows the last figures until the next one answers.
// The page's words are rendered by the server; this only writes numbers.

const pageData = JSON.parse(document.getElementById("page-data").textContent);
const status = document.getElementById("live-status");

function lookup(data, path) {
  return path.split(".").reduce((value, key) => (value == null ? undefined : value[key]), data);
}

async function refresh() {
  try {
    const response = await fetch(pageData.live_url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) throw new Error(String(response.status));
    const data = await response.json();
    for (const element of document.querySelectorAll("[data-live]")) {
      const value = lookup(data, element.dataset.live);
      if (value !== undefined) element.textContent = String(value);
    }
    document.body.dataset.liveAt = data.at;
    status.classList.remove("error");
  } catch (error) {
    status.classList.add("error");
  } finally {
    setTimeout(refresh, pageData.interval_ms);
  }
}

setTimeout(refresh, pageData.interval_ms);
