// The recording player of the review page: clicking an audit event seeks
// the video to it, and the event being played is marked as the video runs.

for (const player of document.querySelectorAll("[data-recording-player]")) {
  const video = player.querySelector("video");
  const items = [...player.querySelectorAll(".recording-timeline li[data-offset]")].filter((li) => li.dataset.offset !== "");
  player.addEventListener("click", (event) => {
    const button = event.target.closest("[data-seek]");
    if (!button || !video) return;
    video.currentTime = Number(button.dataset.seek);
    video.play().catch(() => {});
  });
  if (video) {
    video.addEventListener("timeupdate", () => {
      let current = null;
      for (const item of items) if (Number(item.dataset.offset) <= video.currentTime) current = item;
      for (const item of items) item.setAttribute("aria-current", String(item === current));
    });
  }
}
