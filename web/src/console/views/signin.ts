// The sign-in form. Its sentences: wrong name or password (the server gives
// the same answer for both), too many failures with the wait it imposes, the
// server out of reach, and why the user is here again (session ended).
import { ApiError } from "../../shared/api";
import { h } from "../../shared/dom";
import { signIn } from "../session";
import { t } from "../strings";
import { errorText, field, message } from "../ui";

export function signInView(reason: string | undefined, onSignedIn: () => void): HTMLElement {
  const name = h("input", { type: "text", name: "user", autocomplete: "username", required: true, maxlength: 64 });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "primary" }, t("signin.submit"));
  const alert = message("alert");
  if (reason) alert.say(reason);
  const form = h(
    "form",
    { class: "signin", "aria-labelledby": "signin-title" },
    h("h1", { id: "signin-title" }, t("signin.title")),
    alert,
    field(t("signin.user"), name),
    field(t("signin.password"), password),
    submit,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    alert.say("");
    try {
      await signIn(name.value.trim(), password.value);
      password.value = "";
      onSignedIn();
    } catch (error) {
      password.value = "";
      alert.say(
        error instanceof ApiError && error.code === "bad_credentials" ? t("signin.bad_credentials") : errorText(error),
      );
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  queueMicrotask(() => (name.value ? password : name).focus());
  return h("main", { id: "main", class: "signin-page" }, form);
}
