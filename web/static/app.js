// The Mini App's only script: it sends the init data Telegram gave this page to the server, which verifies it
// and answers with the person's own lists. Outside Telegram there is no init data and nothing is sent; the
// board itself needs no script.
(function () {
  var box = document.getElementById("mine");
  if (!box) return;
  var data = (window.Telegram && Telegram.WebApp && Telegram.WebApp.initData) || "";
  if (!data) data = new URLSearchParams(location.hash.slice(1)).get("tgWebAppData") || "";
  if (!data) return;
  var body = new URLSearchParams({init_data: data});
  fetch(box.dataset.endpoint + "?lang=" + encodeURIComponent(box.dataset.lang), {method: "POST", body: body})
    .then(function (r) { return r.text().then(function (t) { return {ok: r.ok, text: t}; }); })
    .then(function (r) { box.innerHTML = r.text; box.dataset.state = r.ok ? "verified" : "refused"; box.hidden = false; })
    .catch(function () { box.dataset.state = "failed"; });
})();
