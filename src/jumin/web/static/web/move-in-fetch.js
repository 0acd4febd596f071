/* 特例転入 on the 転入 screen: Enter in the 住民票コード / 転出元 boxes presses
 * 「転出証明書情報を取得」 (without this script Enter goes to 確認へ進む, the form's default;
 * the fetch button works either way). No inline scripts (CSP). */
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.isComposing) { return; }
    var field = event.target;
    if (!field || (field.id !== "id__cs_codes" && field.id !== "id__cs_from")) { return; }
    var button = document.querySelector("button[name=_action][value=fetch]");
    if (!button) { return; }
    event.preventDefault();
    button.click();
  });
})();
