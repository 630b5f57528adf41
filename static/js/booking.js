// The link page's booking (templates/customer/booking_choice.html, booked.html):
// send the browser's own time zone with the "Book a time" form and the
// "Change the time" link, so the free times are listed in the customer's
// zone. Without JavaScript the business's zone is used, and named on the page.

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (zone) {
  for (const input of document.querySelectorAll("input[data-browser-zone]")) input.value = zone;
  for (const link of document.querySelectorAll("a[data-browser-zone-link]")) {
    const url = new URL(link.href, location.href);
    url.searchParams.set("tz", zone);
    link.href = url.pathname + url.search;
  }
}
