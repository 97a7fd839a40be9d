// Users (admins only): list, add, disable or enable, set a password.
import { h, replaceChildren } from "../../shared/dom";
import { api, currentUser } from "../session";
import { t } from "../strings";
import type { UserAccount } from "../types";
import { cell, errorText, field, formDialog, listTable, message, option, stateBadge, when } from "../ui";
import type { View } from "../view";

export function usersView(): View {
  const list = h("div", { class: "table-wrap" });
  const problem = message("alert");
  const done = message();

  async function load(): Promise<void> {
    let users: UserAccount[];
    try {
      users = await api<UserAccount[]>("/users");
    } catch (error) {
      problem.say(errorText(error));
      return;
    }
    const headers = [t("users.name"), t("users.role"), t("users.state"), t("users.created"), t("users.last_sign_in"), t("bundles.actions")];
    replaceChildren(
      list,
      listTable(
        t("users.title"),
        headers,
        users.map((user) => {
          const toggle = h(
            "button",
            { type: "button", "aria-label": t(user.disabled ? "users.enable_named" : "users.disable_named", { name: user.name }) },
            t(user.disabled ? "users.enable" : "users.disable"),
          );
          toggle.disabled = user.name === currentUser()?.name && !user.disabled;
          const path = `/users/${encodeURIComponent(user.name)}/${user.disabled ? "enable" : "disable"}`;
          toggle.addEventListener("click", () => act(path, {}, t(user.disabled ? "users.enabled" : "users.disabled", { name: user.name })));
          const password = h("button", { type: "button", "aria-label": t("users.password_named", { name: user.name }) }, t("users.password"));
          password.addEventListener("click", () => setPassword(user.name));
          return h(
            "tr",
            {},
            cell(headers[0]!, user.name),
            cell(headers[1]!, t(`users.role_${user.role}`)),
            cell(headers[2]!, stateBadge(user.disabled ? "revoked" : "active", t(user.disabled ? "users.state_disabled" : "users.state_active"))),
            cell(headers[3]!, when(user.created_at)),
            cell(headers[4]!, when(user.last_sign_in)),
            cell(headers[5]!, toggle, " ", password),
          );
        }),
      ),
    );
  }

  async function act(path: string, body: unknown, success: string): Promise<void> {
    problem.say("");
    try {
      await api(path, { method: "POST", body });
      done.say(success);
      await load();
    } catch (error) {
      problem.say(errorText(error));
    }
  }

  async function setPassword(name: string): Promise<void> {
    const input = h("input", { type: "password", name: "password", required: true, minlength: 12, autocomplete: "new-password" });
    const values = await formDialog(t("users.password_title", { name }), [field(t("users.new_password"), input)], t("users.password"));
    const password = values?.get("password");
    if (typeof password === "string" && password) await act(`/users/${encodeURIComponent(name)}/password`, { password }, t("users.password_set", { name }));
  }

  const name = h("input", { type: "text", name: "name", required: true, maxlength: 64, autocomplete: "off", pattern: "[A-Za-z0-9._@\\-]+" });
  const role = h("select", { name: "role" }, option("technician", t("users.role_technician"), true), option("admin", t("users.role_admin")));
  const password = h("input", { type: "password", name: "password", required: true, minlength: 12, autocomplete: "new-password" });
  const addProblem = message("alert");
  const add = h(
    "form",
    { class: "inline-form", "aria-labelledby": "add-user-title" },
    h("h2", { id: "add-user-title" }, t("users.add")),
    field(t("users.name"), name),
    field(t("users.role"), role),
    field(t("users.password_label"), password),
    h("button", { type: "submit", class: "primary" }, t("users.add_submit")),
    addProblem,
  );
  add.addEventListener("submit", async (event) => {
    event.preventDefault();
    addProblem.say("");
    try {
      await api("/users", { method: "POST", body: { name: name.value.trim(), role: role.value, password: password.value } });
      done.say(t("users.added", { name: name.value.trim() }));
      add.reset();
      await load();
    } catch (error) {
      addProblem.say(errorText(error));
    } finally {
      password.value = "";
    }
  });

  void load();
  return {
    element: h("section", { class: "users" }, h("h1", {}, t("users.title")), problem, done, list, add),
    title: t("users.title"),
  };
}
