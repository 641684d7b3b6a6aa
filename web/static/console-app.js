// The township console's Mini App sign-in: the one script of the console. It hands the init data Telegram
// gave this page to the server (which checks its signature, age and the person's role) and follows the
// answer. Outside Telegram there is no init data; the page then says how to sign in with the bot's link.
(function () {
  var form = document.getElementById("tg-signin");
  if (!form) return;
  var data = (window.Telegram && Telegram.WebApp && Telegram.WebApp.initData) || "";
  if (!data) data = new URLSearchParams(location.hash.slice(1)).get("tgWebAppData") || "";
  if (!data) { document.getElementById("tg-outside").hidden = false; return; }
  form.elements.init_data.value = data;
  form.submit();
})();
