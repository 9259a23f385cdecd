// Tells the server the browser's time zone (a cookie read when pages are made): a user who has
// not chosen a time zone yet is proposed this one at the top of every page.
const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
if (zone) {
  document.cookie = `concord_browser_zone=${encodeURIComponent(zone)}; path=/; max-age=31536000; samesite=lax`;
}
